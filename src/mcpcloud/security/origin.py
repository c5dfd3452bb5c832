"""Host and Origin checks for the MCP endpoint (DNS-rebinding and cross-site protection).

The SDK has a guard too, but it ties the Host check to the Origin check; a cluster
service behind an Ingress cannot know every Host it is reached by, yet must still refuse
foreign browser Origins. So: Host is checked when an allowlist applies, Origin always.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from mcpcloud.config import Settings
from mcpcloud.http_errors import json_rpc_error_response

LOOPBACK_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost", "[::1]")
LOOPBACK_ORIGINS = tuple(f"{scheme}://{host}" for scheme in ("http", "https") for host in LOOPBACK_HOSTS)


def _matches(value: str, allowed: tuple[str, ...]) -> bool:
    for pattern in allowed:
        if value == pattern:
            return True
        if pattern.endswith(":*"):
            prefix = pattern[:-1]
            if value.startswith(prefix) and value[len(prefix) :].isdigit():
                return True
    return False


@dataclass(frozen=True)
class OriginPolicy:
    allowed_hosts: tuple[str, ...] | None  # None: any Host
    allowed_origins: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> OriginPolicy:
        http = settings.http
        if settings.binds_loopback:
            hosts: tuple[str, ...] | None = tuple(http.allowed_hosts) or LOOPBACK_HOSTS
            origins = tuple(http.allowed_origins) or LOOPBACK_ORIGINS
        else:
            hosts = tuple(http.allowed_hosts) or None
            origins = tuple(http.allowed_origins)
        return cls(allowed_hosts=hosts, allowed_origins=origins)

    def refusal(self, headers: Headers) -> tuple[int, str] | None:
        host = headers.get("host", "")
        if self.allowed_hosts is not None and not _matches(host, self.allowed_hosts):
            return 421, f"Host {host!r} is not allowed for this server"
        origin = headers.get("origin")
        if origin is not None and not _matches(origin, self.allowed_origins):
            return 403, f"Origin {origin!r} is not allowed for this server"
        return None


class OriginGuard:
    """ASGI wrapper that refuses requests whose Host or Origin the policy does not allow."""

    def __init__(self, app: ASGIApp, policy: OriginPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self.policy.refusal(Headers(scope=scope))
            if refusal is not None:
                status, message = refusal
                await json_rpc_error_response(status, message)(scope, receive, send)
                return
        await self.app(scope, receive, send)
