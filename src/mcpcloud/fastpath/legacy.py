"""The handshake era's `tools/call` in a session this process serves: one SSE event, written directly.

On the 2025 era the SDK hands every request to the session's dispatcher through memory streams
and answers it through `sse_starlette`'s `EventSourceResponse`, which spawns its own tasks (the
stream, a ping, two disconnect listeners) per request (bench/README.md). For a `tools/call`
that needs none of that — a prepared tool, no progress token, no resumability (no event store) —
the fast path answers with the same single `event: message` SSE frame and the same headers.

A session qualifies once the fast path has seen its `initialize` accepted (a result, not an
error, with the session id the SDK minted) and while the SDK still holds it unterminated in
this process; the negotiated protocol version is the SDK's own (`ServerRunner._negotiate_initialize`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser, authorization_context
from mcp.server.runner import ServerRunner
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.jsonrpc_dispatcher import handler_exception_to_error_data
from mcp_types import ErrorData, JSONRPCError
from starlette.types import Message, Scope, Send

from mcpcloud.fastpath.eligibility import TOOLS_CALL, plain_json_post, single_headers
from mcpcloud.fastpath.wire import dumps, loads

_MESSAGE_KEYS = frozenset({"jsonrpc", "id", "method", "params"})
_CALL_PARAMS = frozenset({"name", "arguments"})
_MAX_INITIALIZE_ANSWER = 64 * 1024


class LegacySessions:
    def __init__(self, manager: StreamableHTTPSessionManager) -> None:
        self._manager = manager
        self._versions: dict[str, str] = {}  # session id -> negotiated protocol version

    def version_of(self, session_id: str, scope: Scope) -> str | None:
        """The session's protocol version while the SDK still serves it here to this caller, else None."""
        version = self._versions.get(session_id)
        if version is None:
            return None
        # A session answers only the credential that opened it (the SDK says 404 to anyone else): its own check.
        user = scope.get("user")
        requestor = authorization_context(user) if isinstance(user, AuthenticatedUser) else None
        if requestor != self._manager._session_owners.get(session_id):
            return None
        # The SDK's own session table (private; a manager without one never gets here: see watch_initialize).
        transport = self._manager._server_instances.get(session_id)
        if transport is None or transport.is_terminated:
            del self._versions[session_id]
            return None
        return version

    def watch_initialize(self, message: Any, send: Send) -> Send:
        """`send`, noting the session when the SDK accepts this `initialize` (else unchanged)."""
        if getattr(self._manager, "event_store", None) is not None or not all(
            isinstance(getattr(self._manager, table, None), dict) for table in ("_server_instances", "_session_owners")
        ):  # resumable streams number their events, and sessions held elsewhere are not ours to judge: the SDK's
            return send
        try:
            _, version = ServerRunner._negotiate_initialize(message.get("params"))
        except Exception:  # malformed: the SDK refuses it, and there is no session to note
            return send
        session_id: str | None = None
        chunks: list[bytes] = []

        async def noting(event: Message) -> None:
            nonlocal session_id
            if event["type"] == "http.response.start" and event["status"] == 200:
                session_id = next((v.decode("latin-1") for k, v in event["headers"] if k == b"mcp-session-id"), None)
            elif event["type"] == "http.response.body" and session_id is not None:
                chunks.append(event.get("body", b""))
                if not event.get("more_body", False) or sum(map(len, chunks)) > _MAX_INITIALIZE_ANSWER:
                    if _accepted(b"".join(chunks)):
                        self._versions[session_id] = version
                    session_id = None
            await send(event)

        return noting


def _accepted(sse: bytes) -> bool:
    """Whether an SSE answer to `initialize` carries a result (the handshake was accepted)."""
    for line in sse.splitlines():
        if line.startswith(b"data:"):
            try:
                return "result" in loads(line[5:])
            except ValueError:
                return False
    return False


def legacy_call(message: Any, callable_tools: Any) -> tuple[int | str, dict[str, Any]] | None:
    """(id, params) of a plain `tools/call` the fast path answers in a session, else None."""
    if type(message) is not dict or message.keys() - _MESSAGE_KEYS or message.get("jsonrpc") != "2.0":
        return None
    request_id, params = message.get("id"), message.get("params")
    if type(request_id) is not int and type(request_id) is not str:
        return None
    if message.get("method") != TOOLS_CALL or type(params) is not dict or params.keys() - _CALL_PARAMS:
        return None  # a _meta (progress token) or anything else: the SDK's
    name, arguments = params.get("name"), params.get("arguments")
    if type(name) is not str or name not in callable_tools or (arguments is not None and type(arguments) is not dict):
        return None
    return request_id, params


_SESSION_HEADERS = frozenset({b"accept", b"content-type", b"mcp-session-id", b"mcp-protocol-version", b"last-event-id"})


def legacy_headers(scope: Scope, version_of: Callable[[str, Scope], str | None]) -> tuple[str, str] | None:
    """(session id, version) when the headers are those of a plain request in a known session, else None."""
    found = single_headers(scope["headers"], _SESSION_HEADERS)
    if found is None or b"last-event-id" in found or not plain_json_post(found):
        return None
    session, version = found.get(b"mcp-session-id"), found.get(b"mcp-protocol-version")
    if session is None or version is None:
        return None
    session_id = session.decode("latin-1")
    negotiated = version_of(session_id, scope)
    if negotiated is None or negotiated.encode() != version:
        return None
    return session_id, negotiated


def sse_frame(request_id: int | str, result: dict[str, Any] | None, exc: Exception | None = None) -> bytes:
    """The SDK's one `event: message` frame for the answer; an exception as its dispatcher maps it."""
    if exc is None:
        payload = b'{"jsonrpc":"2.0","id":' + dumps(request_id) + b',"result":' + dumps(result) + b"}"
    else:
        error = handler_exception_to_error_data(exc) or ErrorData(code=0, message=str(exc))
        payload = dumps(
            JSONRPCError(jsonrpc="2.0", id=request_id, error=error).model_dump(
                mode="json", by_alias=True, exclude_none=True
            )
        )
    return b"event: message\r\ndata: " + payload + b"\r\n\r\n"


async def send_sse(send: Send, session_id: str, frame: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"cache-control", b"no-cache, no-transform"),
                (b"connection", b"keep-alive"),
                (b"content-type", b"text/event-stream"),
                (b"mcp-session-id", session_id.encode("latin-1")),
                (b"x-accel-buffering", b"no"),
                (b"content-length", str(len(frame)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": frame})
