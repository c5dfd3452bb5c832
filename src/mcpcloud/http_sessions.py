"""Legacy-era (handshake) sessions that any replica can serve: records in Redis, one exchange per request.

The SDK's stateful session manager keeps each session as a live server task in the process that
answered `initialize`; behind a per-request round-robin proxy the next request lands elsewhere
and gets "Session not found". Here a session is a record (state/sessions.py) and every request
rebuilds it: a fresh SDK transport + dispatcher + `Connection` carrying the recorded protocol
version and client capabilities, served like the SDK's stateless mode, except that
server-to-client requests stay possible (elicitation, sampling ride the POST's SSE stream).

What crosses replicas goes through `Fanout` (state/bus.py):
- the client's answer to a server-to-client request may be POSTed to any replica. The request id
  the dispatcher minted carries the replica number in its high bits, so the answer is sent to the
  replica whose tool awaits it;
- a notification not tied to a request (a list change, a log line on the standalone channel) goes
  to the replica holding the client's GET stream, which the record names;
- the client's `notifications/cancelled` goes to every replica, and stops the request wherever it runs.

The 2026-07-28 era needs none of this (it is stateless); those requests go to the SDK unchanged.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

import anyio
from mcp.server.connection import Connection
from mcp.server.runner import serve_connection
from mcp.server.streamable_http import StreamableHTTPServerTransport
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import RequestBodyLimitMiddleware
from mcp.shared.dispatcher import CallOptions
from mcp.shared.exceptions import NoBackChannelError
from mcp.shared.jsonrpc_dispatcher import JSONRPCDispatcher
from mcp.shared.message import SessionMessage
from mcp_types import InitializeRequestParams, jsonrpc_message_adapter
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, LATEST_HANDSHAKE_VERSION
from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from mcpcloud.config import SessionSettings
from mcpcloud.core.principal import PRINCIPAL_KEY
from mcpcloud.http_errors import json_rpc_error_response
from mcpcloud.state.bus import Fanout
from mcpcloud.state.errors import StateUnavailable
from mcpcloud.state.sessions import RedisSessionStore, SessionRecord

logger = logging.getLogger(__name__)

SESSION_HEADER = "mcp-session-id"
REPLICA_SHIFT = 32  # request ids: replica number above bit 32, a per-request counter below
CAP_CODE = -32000
CANCELLED = "notifications/cancelled"


def principal_key(scope: Scope) -> str:
    principal = scope.get(PRINCIPAL_KEY)
    return principal.id if principal is not None else "anonymous"


def replica_of(request_id: Any) -> int | None:
    return request_id >> REPLICA_SHIFT if isinstance(request_id, int) and request_id > 0 else None


def session_not_found() -> Response:
    # What the SDK answers for an unknown session: the client then starts a new one.
    return json_rpc_error_response(404, "Session not found")


def principal_cap_refusal(principal: str, open_sessions: int, settings: SessionSettings) -> Response:
    return json_rpc_error_response(
        429,
        f"session cap reached: {principal} already has {open_sessions} open sessions "
        f"(sessions.max_per_principal = {settings.max_per_principal}); end unused sessions with HTTP DELETE "
        f"(their Mcp-Session-Id), or wait for idle ones to expire after {settings.idle_timeout_minutes:g} minutes",
        code=CAP_CODE,
        headers={"Retry-After": "60"},
        data={"cap": "sessions.max_per_principal", "limit": settings.max_per_principal},
    )


def process_cap_refusal(cap: int) -> Response:
    return json_rpc_error_response(
        503,
        f"session cap reached: this server process holds its maximum of {cap} sessions "
        "(sessions.max_per_process, sized to its memory); retry shortly (another replica may have room), "
        "and ask the operator to add replicas or memory",
        code=CAP_CODE,
        headers={"Retry-After": "5"},
        data={"cap": "sessions.max_per_process", "limit": cap},
    )


class SessionOutbound:
    """The standalone channel of a rebuilt session: notifications go to whichever replica holds its GET stream."""

    def __init__(self, record: SessionRecord, store: RedisSessionStore, fanout: Fanout) -> None:
        self.record = record
        self.store = store
        self.fanout = fanout

    async def send_raw_request(
        self, method: str, params: Mapping[str, Any] | None, opts: CallOptions | None = None
    ) -> dict[str, Any]:
        raise NoBackChannelError(method)  # only request-scoped server requests are supported

    async def notify(self, method: str, params: Mapping[str, Any] | None, opts: CallOptions | None = None) -> None:
        current = await self.store.touch(self.record.id, _now_ms())
        if current is None or current.stream_replica is None:
            logger.debug("dropped %s: session %s has no GET stream open", method, self.record.id[:16])
            return
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = dict(params)
        await self.fanout.send(current.stream_replica, "stream", self.record.id, message)


class SharedSessions:
    """ASGI app for the MCP endpoint when sessions are shared through Redis."""

    def __init__(
        self,
        sdk: StreamableHTTPSessionManager,
        store: RedisSessionStore,
        fanout: Fanout,
        settings: SessionSettings,
        max_per_process: int,
    ) -> None:
        self.sdk = sdk
        self.store = store
        self.fanout = fanout
        self.settings = settings
        self.max_per_process = max_per_process
        self.open_streams = 0
        self.asgi_app = RequestBodyLimitMiddleware(self._handle, sdk.max_request_body_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        version = Headers(scope=scope).get("mcp-protocol-version")
        if version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS:
            await self.sdk.asgi_app(scope, receive, send)  # 2026-07-28: stateless, any replica already
            return
        await self.asgi_app(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        session_id = Headers(scope=scope).get(SESSION_HEADER)
        method = scope["method"]
        if session_id is None:
            if method != "POST":
                await json_rpc_error_response(400, "Bad Request: Missing session ID (Mcp-Session-Id header)")(
                    scope, receive, send
                )
                return
            await self._open(scope, receive, send)
            return
        record = await self.store.touch(session_id, _now_ms())
        if record is None or record.principal != principal_key(scope):
            await session_not_found()(scope, receive, send)  # also for another principal's session
            return
        if method == "DELETE":
            await self.store.delete(record)
            await Response(status_code=200)(scope, receive, send)
        elif method == "GET":
            await self._stream(record, scope, receive, send)
        else:
            await self._post(record, scope, receive, send)

    async def _open(self, scope: Scope, receive: Receive, send: Send) -> None:
        body, receive = await _read_body(receive)
        message = _json(body)
        if message.get("method") != "initialize" or "id" not in message:
            # Not an opening request: the transport answers it as the SDK does (400, missing session).
            await self._exchange(None, _new_id(), scope, receive, send)
            return
        try:
            params = InitializeRequestParams.model_validate(message.get("params") or {}, by_name=False)
        except ValidationError:
            await self._exchange(None, _new_id(), scope, receive, send)  # the SDK names what is wrong
            return
        requested = params.protocol_version
        record = SessionRecord(
            id=_new_id(),
            principal=principal_key(scope),
            # The SDK's negotiation: the client's version when supported, else the latest handshake version.
            protocol_version=requested if requested in HANDSHAKE_PROTOCOL_VERSIONS else LATEST_HANDSHAKE_VERSION,
            client_params=params.model_dump(mode="json", by_alias=True, exclude_none=True),
        )
        refused = await self.store.create(record, _now_ms())
        if refused is not None:
            await principal_cap_refusal(record.principal, refused.open_sessions, self.settings)(scope, receive, send)
            return
        status = await self._exchange(None, record.id, scope, receive, send)
        if status is None or status >= 400:
            await self.store.delete(record)

    async def _post(self, record: SessionRecord, scope: Scope, receive: Receive, send: Send) -> None:
        body, receive = await _read_body(receive)
        message = _json(body)
        if "method" not in message and "id" in message and ("result" in message or "error" in message):
            # The client's answer to a server-to-client request: to the replica whose tool awaits it.
            replica = replica_of(message["id"])
            await self.fanout.send(replica if replica is not None else self.fanout.replica, "reply", record.id, message)
            await Response(status_code=202)(scope, receive, send)
            return
        if message.get("method") == CANCELLED and "id" not in message:
            # The request it cancels may run on any replica: offered to the session's exchanges everywhere.
            await self.fanout.broadcast("reply", record.id, message)
            await Response(status_code=202)(scope, receive, send)
            return
        await self._exchange(record, record.id, scope, receive, send)

    async def _exchange(
        self, record: SessionRecord | None, session_id: str, scope: Scope, receive: Receive, send: Send
    ) -> int | None:
        """Serve one request on a rebuilt session (or an opening one when `record` is None); the HTTP status."""
        transport = StreamableHTTPServerTransport(
            mcp_session_id=session_id, security_settings=self.sdk.security_settings
        )
        replies_in, replies_out = anyio.create_memory_object_stream[dict[str, Any]](16)
        status: int | None = None

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        async def serve(*, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
            async with transport.connect() as (read_stream, write_stream):
                dispatcher: JSONRPCDispatcher[Any] = JSONRPCDispatcher(
                    read_stream, write_stream, inline_methods=frozenset({"initialize"})
                )
                # Ids of server-to-client requests carry this replica's number, so the client's answer,
                # POSTed to any replica, finds its way here. The dispatcher has no public id seed.
                dispatcher._next_id = (self.fanout.replica << REPLICA_SHIFT) + int.from_bytes(os.urandom(3), "big")
                connection = self._connection(record, session_id, dispatcher)
                task_status.started()
                async with anyio.create_task_group() as relay:
                    relay.start_soon(self._relay_replies, replies_out, transport)
                    try:
                        await serve_connection(
                            self.sdk.app, dispatcher, connection=connection, lifespan_state=self.sdk._lifespan_state
                        )  # set by the SDK's run()
                    finally:
                        relay.cancel_scope.cancel()

        detach = self.fanout.attach("reply", session_id, lambda m: _offer(replies_in, m))
        try:
            async with anyio.create_task_group() as tg:
                await tg.start(serve)
                try:
                    await transport.handle_request(scope, receive, watch)
                finally:
                    with anyio.CancelScope(shield=True):
                        await transport.terminate()
        finally:
            detach()
        return status

    def _connection(
        self, record: SessionRecord | None, session_id: str, dispatcher: JSONRPCDispatcher[Any]
    ) -> Connection:
        if record is None:  # the opening request: the SDK's handshake decides everything
            return Connection.for_loop(dispatcher, session_id=session_id)
        client = (
            InitializeRequestParams.model_validate(record.client_params, by_name=False)
            if record.client_params
            else None
        )
        connection = Connection(
            SessionOutbound(record, self.store, self.fanout),
            protocol_version=record.protocol_version,
            session_id=session_id,
            client_params=client,
        )
        connection.initialized.set()
        return connection

    @staticmethod
    async def _relay_replies(
        replies: anyio.abc.ObjectReceiveStream[dict[str, Any]], transport: StreamableHTTPServerTransport
    ) -> None:
        async for raw in replies:
            try:
                message = jsonrpc_message_adapter.validate_python(raw, by_name=False)
            except ValidationError:
                continue
            writer = transport._read_stream_writer  # the transport's inbound side; no public way to inject
            if writer is not None:
                await writer.send(SessionMessage(message))

    async def _stream(self, record: SessionRecord, scope: Scope, receive: Receive, send: Send) -> None:
        """The client's standalone GET stream: what other replicas send this session is written to it."""
        if self.open_streams >= self.max_per_process:
            await process_cap_refusal(self.max_per_process)(scope, receive, send)
            return
        transport = StreamableHTTPServerTransport(
            mcp_session_id=record.id, security_settings=self.sdk.security_settings
        )
        inbox_in, inbox_out = anyio.create_memory_object_stream[dict[str, Any]](64)
        detach = self.fanout.attach("stream", record.id, lambda m: _offer(inbox_in, m))
        self.open_streams += 1
        try:
            async with transport.connect() as (_, write_stream), anyio.create_task_group() as tg:

                async def forward() -> None:
                    async for raw in inbox_out:
                        try:
                            await write_stream.send(SessionMessage(jsonrpc_message_adapter.validate_python(raw)))
                        except ValidationError:
                            continue

                tg.start_soon(forward)
                tg.start_soon(self._hold, record.id)
                await self.store.set_stream(record.id, self.fanout.replica)
                try:
                    await transport.handle_request(scope, receive, send)
                finally:
                    tg.cancel_scope.cancel()
                    with anyio.CancelScope(shield=True):
                        await transport.terminate()
        finally:
            self.open_streams -= 1
            detach()

    async def _hold(self, session_id: str) -> None:
        """An open GET stream holds its session, as in the SDK: refresh the idle expiry while it lasts."""
        while True:
            await anyio.sleep(self.store.ttl_ms / 3000)
            try:
                if await self.store.touch(session_id, _now_ms()) is None:
                    return  # ended (DELETE) or expired meanwhile
            except StateUnavailable:
                continue  # Redis is away; the next round tries again


def _offer(stream: anyio.abc.ObjectSendStream[dict[str, Any]], message: dict[str, Any]) -> None:
    try:
        stream.send_nowait(message)
    except (anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
        logger.debug("session message dropped: its stream is full or closed")


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body (already capped by the body-limit middleware) and a `receive` that replays it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body) if body else None
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _new_id() -> str:
    return os.urandom(16).hex()


def _now_ms() -> int:
    return int(time.time() * 1000)
