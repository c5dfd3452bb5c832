"""The MCP exchanges the benchmark drives: tools/call `echo` on each protocol era.

The wire format is what the SDK's own `mcp.Client` sends (captured from mcp 2.3.0 through
a logging proxy, see bench/README.md): the same headers, the same `_meta` envelope.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from http1 import Http1Connection, Response, encode_head, encode_request, with_body

MODERN_VERSION = "2026-07-28"
LEGACY_VERSION = "2025-11-25"
MESSAGE = "hello, benchmark ✓"
CLIENT_INFO = {"name": "mcpcloud-bench", "version": "1"}
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


class EchoSession(Protocol):
    """One connection's conversation: set up once, then one tools/call per `next_request`."""

    async def open(self) -> None: ...
    def next_request(self) -> bytes: ...
    async def close(self) -> None: ...


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class _RequestTemplate:
    """A tools/call body with the request id spliced in, so only the id is formatted per request."""

    def __init__(self, method: str, path: str, host: str, headers: dict[str, str], params: dict[str, Any]) -> None:
        self._head = encode_head(method, path, host, headers)
        self._prefix = '{"jsonrpc":"2.0","id":'
        self._suffix = ',"method":"tools/call","params":' + _dumps(params) + "}"
        self._next_id = 0

    def render(self) -> bytes:
        self._next_id += 1
        return with_body(self._head, f"{self._prefix}{self._next_id}{self._suffix}".encode())


def echo_params(meta: dict[str, Any] | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"name": "echo", "arguments": {"message": MESSAGE}}
    if meta is not None:
        params["_meta"] = meta
    return params


class ModernEcho:
    """2026-07-28: stateless, every request carries the version headers and the `_meta` envelope."""

    def __init__(self, conn: Http1Connection, host: str, path: str, extra: dict[str, str] | None = None) -> None:
        meta = {
            "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
            "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
            "io.modelcontextprotocol/clientCapabilities": {},
        }
        headers = {
            **ACCEPT,
            "MCP-Protocol-Version": MODERN_VERSION,
            "Mcp-Method": "tools/call",
            "Mcp-Name": "echo",
            **(extra or {}),
        }
        self._template = _RequestTemplate("POST", path, host, headers, echo_params(meta))

    async def open(self) -> None:
        return None

    def next_request(self) -> bytes:
        return self._template.render()

    async def close(self) -> None:
        return None


class LegacyEcho:
    """2025-11-25: initialize, notifications/initialized, then tools/call in that session."""

    def __init__(self, conn: Http1Connection, host: str, path: str, extra: dict[str, str] | None = None) -> None:
        self._conn, self._host, self._path = conn, host, path
        self._extra = extra or {}  # e.g. the API key of the production-pipeline target, on every request
        self._session_id: str | None = None
        self._template: _RequestTemplate | None = None

    async def open(self) -> None:
        initialize = {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {"protocolVersion": LEGACY_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO},
        }
        response = await self._post({**ACCEPT, **self._extra}, initialize)
        session_id = response.headers.get("mcp-session-id")
        if response.status != 200 or not session_id:
            raise RuntimeError(f"initialize failed: HTTP {response.status} {response.body[:200]!r}")
        self._session_id = session_id
        session_headers = {
            **ACCEPT,
            "Mcp-Session-Id": session_id,
            "MCP-Protocol-Version": LEGACY_VERSION,
            **self._extra,
        }
        initialized = await self._post(session_headers, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        if initialized.status != 202:
            raise RuntimeError(f"notifications/initialized failed: HTTP {initialized.status}")
        self._template = _RequestTemplate("POST", self._path, self._host, session_headers, echo_params())

    def next_request(self) -> bytes:
        assert self._template is not None, "open() first"
        return self._template.render()

    async def close(self) -> None:
        if self._session_id is not None:
            headers = {"Mcp-Session-Id": self._session_id, "MCP-Protocol-Version": LEGACY_VERSION, **self._extra}
            await self._conn.exchange(encode_request("DELETE", self._path, self._host, headers))

    async def _post(self, headers: dict[str, str], message: dict[str, Any]) -> Response:
        raw = encode_request("POST", self._path, self._host, headers, _dumps(message).encode())
        return await self._conn.exchange(raw)


SCENARIOS: dict[str, type[ModernEcho] | type[LegacyEcho]] = {"modern": ModernEcho, "legacy": LegacyEcho}


def json_rpc_payload(response: Response) -> dict[str, Any]:
    """The JSON-RPC message in a response body, whether plain JSON or a single SSE event."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        data = [line[5:].strip() for line in response.body.decode().splitlines() if line.startswith("data:")]
        data = [d for d in data if d]
        if len(data) != 1:
            raise ValueError(f"expected one SSE data line, got {len(data)}")
        return json.loads(data[0])
    return json.loads(response.body)


def echo_error(response: Response) -> str | None:
    """Why a tools/call echo response is wrong, or None when it is a correct echo."""
    if response.status != 200:
        return f"HTTP {response.status}: {response.body[:200]!r}"
    try:
        payload = json_rpc_payload(response)
        result = payload["result"]
        if result.get("isError"):
            return f"tool error: {result['content']!r}"[:300]
        text = result["content"][0]["text"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        return f"malformed response ({type(exc).__name__}: {exc}): {response.body[:200]!r}"
    if text != MESSAGE:
        return f"echo returned {text!r}"
    return None
