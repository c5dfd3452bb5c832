"""Which session layer serves the MCP endpoint, and the caps that keep sessions within memory.

- `redis.url` set: `SharedSessions` (any replica serves any session; records in Redis).
- otherwise: the SDK's in-process session manager, behind `LocalSessionCaps`, which refuses a
  new session with a JSON-RPC error naming the cap (per principal, per process) before the SDK's
  own bare "Too many open sessions" would.

The per-process default is sized to memory: a quarter of the cgroup (or machine) memory limit,
at the ~48 KiB an idle SDK session holds (bench/sessions.py measures it), within 100..10,000.
"""

from __future__ import annotations

from pathlib import Path

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser, authorization_context
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from mcpcloud.config import SessionSettings
from mcpcloud.http_sessions import (
    SESSION_HEADER,
    SharedSessions,
    principal_cap_refusal,
    principal_key,
    process_cap_refusal,
)
from mcpcloud.server import McpCloud

BYTES_PER_IDLE_SESSION = 48 * 1024
MEMORY_SHARE = 0.25


def memory_limit_bytes() -> int | None:
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:
            return int(text)
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def sessions_for_memory(limit: int | None = None) -> int:
    limit = limit if limit is not None else memory_limit_bytes()
    if limit is None:
        return 10_000
    return max(100, min(10_000, int(limit * MEMORY_SHARE / BYTES_PER_IDLE_SESSION)))


class LocalSessionCaps:
    def __init__(self, sdk: StreamableHTTPSessionManager, settings: SessionSettings, max_per_process: int) -> None:
        self.sdk = sdk
        self.settings = settings
        self.max_per_process = max_per_process

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            headers = Headers(scope=scope)
            version = headers.get("mcp-protocol-version")
            opens = headers.get(SESSION_HEADER) is None and (version is None or version in HANDSHAKE_PROTOCOL_VERSIONS)
            refusal = self._refusal(scope) if opens else None
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.sdk.asgi_app(scope, receive, send)

    def _refusal(self, scope: Scope) -> ASGIApp | None:
        # The SDK keeps its sessions and their owners in these dicts and offers no count; read only.
        sessions, owners = self.sdk._server_instances, self.sdk._session_owners
        if len(sessions) >= self.max_per_process:
            return process_cap_refusal(self.max_per_process)
        user = scope.get("user")
        requestor = authorization_context(user) if isinstance(user, AuthenticatedUser) else None
        held = sum(1 for owner in owners.values() if owner == requestor) if requestor is not None else len(sessions)
        if held >= self.settings.max_per_principal:
            return principal_cap_refusal(principal_key(scope), held, self.settings)
        return None


def session_endpoint(sdk: StreamableHTTPSessionManager, server: McpCloud, max_per_process: int) -> ASGIApp:
    settings = server.settings.sessions
    if server.shared is not None:
        return SharedSessions(sdk, server.shared.sessions, server.shared.fanout, settings, max_per_process)
    return LocalSessionCaps(sdk, settings, max_per_process)
