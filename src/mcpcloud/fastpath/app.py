"""The fast path's ASGI component, in the place of the SDK's `/mcp` app (see the package docstring)."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from mcp.server.connection import Connection
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import MCPServer
from mcp.server.runner import ServerRunner, _dump_result, _extract_meta
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, LATEST_MODERN_VERSION
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from mcpcloud.fastpath.eligibility import (
    SERVER_DISCOVER,
    TOOLS_CALL,
    TOOLS_LIST,
    Exchange,
    Routing,
    exchange_of,
    routing_of,
)
from mcpcloud.fastpath.legacy import LegacySessions, legacy_call, legacy_headers, send_sse, sse_frame
from mcpcloud.fastpath.lists import ListResults
from mcpcloud.fastpath.tools import FastTools
from mcpcloud.fastpath.wire import canonical, error_body, loads, result_body, send_json
from mcpcloud.http_body import read_body, replay

logger = logging.getLogger("mcpcloud.fastpath")


class FastPath:
    def __init__(
        self,
        sdk_app: ASGIApp,
        mcp: MCPServer[Any],
        manager: StreamableHTTPSessionManager,
        max_body_bytes: int,
        local_sessions: bool = True,
    ) -> None:
        self.sdk_app = sdk_app
        self.mcp = mcp
        self.server: Server[Any] = mcp._lowlevel_server  # the SDK exposes no public accessor
        self.manager = manager
        self.max_body_bytes = max_body_bytes
        self.tools = FastTools(mcp._tool_manager._tools)  # the SDK's registry itself, watched for changes
        self.lists = ListResults()
        # 2025-era sessions are answered here only while the SDK in this process holds them.
        self.sessions = LegacySessions(manager) if local_sessions else None
        # Only `_serialize` of this runner is used: the SDK's own response shaping (cache hints, the
        # per-version result sieve, `resultType`, the serverInfo stamp), which reads nothing per connection.
        self.shaper = ServerRunner(self.server, Connection.from_envelope(LATEST_MODERN_VERSION, None, None), None)
        self._metas: dict[bytes, Any] = {}
        self._debug = logger.isEnabledFor(logging.DEBUG)  # decided once: the check itself is not free per request
        self._sdk_handlers = {
            TOOLS_CALL: mcp._handle_call_tool,
            TOOLS_LIST: mcp._handle_list_tools,
            SERVER_DISCOVER: self.server._handle_discover,
        }
        self._handlers: dict[str, CallNext] = {
            TOOLS_CALL: self._call_tool,
            TOOLS_LIST: self._listed,
            SERVER_DISCOVER: self._listed,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.sdk_app(scope, receive, send)
            return
        routing = routing_of(scope["headers"])
        if routing is not None and self._serves(routing.method):
            await self._modern(routing, scope, receive, send)
        elif routing is None and not _claims_modern(scope["headers"]):
            await self._legacy(scope, receive, send)
        else:
            await self.sdk_app(scope, receive, send)

    async def _modern(self, routing: Routing, scope: Scope, receive: Receive, send: Send) -> None:
        body, complete = await read_body(receive, self.max_body_bytes)
        # Too large: the SDK's body limit answers 413.
        exchange = self._exchange(body, routing) if complete and len(body) <= self.max_body_bytes else None
        if exchange is None:
            await self.sdk_app(scope, replay(body, receive, more=not complete), send)
            return
        ctx = self._context(
            scope,
            receive,
            body,
            exchange.route.protocol_version,
            exchange.method,
            exchange.params,
            exchange.request_id,
            self._meta(exchange.params),
        )
        try:
            # As ServerRunner does: a stage that answered itself may return a model (a timeout's result).
            result = _dump_result(await self._chain(self._handlers[exchange.method])(ctx))
        except Exception as exc:
            status, payload = error_body(exchange.request_id, exc)
            await send_json(send, status, payload)
            self._answered(exchange.method, "with an error")
            return
        await send_json(send, 200, result_body(exchange.request_id, self.lists.encoded(result)))
        self._answered(exchange.method)

    async def _legacy(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The handshake era: a plain tools/call in a known session answered here; `initialize` watched."""
        if self.sessions is None:
            await self.sdk_app(scope, receive, send)
            return
        known = legacy_headers(scope, self.sessions.version_of)
        opening = known is None and not any(k == b"mcp-session-id" for k, _ in scope["headers"])
        if known is None and not opening:
            await self.sdk_app(scope, receive, send)
            return
        body, complete = await read_body(receive, self.max_body_bytes)
        message = self._decode(body) if complete and len(body) <= self.max_body_bytes else None
        forward = replay(body, receive, more=not complete)
        if known is None:  # no session yet: if this opens one, note it as the SDK accepts it
            if type(message) is dict and message.get("method") == "initialize" and "id" in message:
                send = self.sessions.watch_initialize(message, send)
            await self.sdk_app(scope, forward, send)
            return
        call = legacy_call(message, self.tools.current()) if self._serves(TOOLS_CALL) else None
        if call is None:
            await self.sdk_app(scope, forward, send)
            return
        session_id, version = known
        request_id, params = call
        ctx = self._context(scope, receive, body, version, TOOLS_CALL, params, request_id, None)
        try:
            frame = sse_frame(request_id, _dump_result(await self._chain(self._call_tool)(ctx)))
        except Exception as exc:
            frame = sse_frame(request_id, None, exc)
        await send_sse(send, session_id, frame)
        self._answered("tools/call", "in a handshake-era session")

    def _context(
        self,
        scope: Scope,
        receive: Receive,
        body: bytes,
        version: str,
        method: str,
        params: dict[str, Any],
        request_id: int | str,
        meta: Any,
    ) -> ServerRequestContext[Any, Any]:
        return ServerRequestContext(
            session=None,  # type: ignore[arg-type]  # no back-channel on this path; no fast tool takes the Context
            lifespan_context=getattr(self.manager, "_lifespan_state", None),  # what the SDK hands its own handlers
            protocol_version=version,
            method=method,
            params=params,
            request_id=request_id,
            meta=meta,
            request=Request(scope, replay(body, receive)),  # a stage may read the body again
        )

    def _answered(self, method: str, how: str = "") -> None:
        if self._debug:
            logger.debug("fast path answered %s %s", method, how)

    def _serves(self, method: str) -> bool:
        """The method's handler is still the SDK's own (a pack or extension may have replaced it)."""
        handler = self.server.get_request_handler(method)
        return handler is not None and handler.handler == self._sdk_handlers[method]

    def _exchange(self, body: bytes, routing: Routing) -> Exchange | None:
        message = self._decode(body)
        return None if message is None else exchange_of(message, routing, self.tools.current())

    @staticmethod
    def _decode(body: bytes) -> Any:
        try:
            return loads(body)
        except ValueError:  # orjson.JSONDecodeError is one; the SDK answers what is wrong
            return None

    def _meta(self, params: dict[str, Any]) -> Any:
        """`ctx.meta` as the SDK types it, once per distinct envelope (clients send the same one every time)."""
        raw = params["_meta"]
        key = canonical(raw)
        meta = self._metas.get(key)
        if meta is None:
            if len(self._metas) >= 256:
                self._metas.clear()
            meta = self._metas[key] = _extract_meta({"_meta": raw})
        return meta

    def _chain(self, inner: CallNext) -> CallNext:
        """The server's middleware (the message pipeline), outermost first, around `inner`: as `ServerRunner` composes it."""
        call = inner
        for middleware in reversed(self.server.middleware):
            call = partial(_apply, middleware, call)
        return call

    async def _call_tool(self, ctx: ServerRequestContext[Any, Any]) -> HandlerResult:
        params = ctx.params or {}
        tool = self.tools.current().get(params.get("name"))  # type: ignore[arg-type]
        shape = partial(self.shaper._serialize, ctx.method, ctx.protocol_version)
        if tool is None:  # a stage rewrote the call to a tool the fast path does not prepare: the SDK's handler
            return shape(await self._sdk_handler(ctx))
        return await tool.call(params.get("arguments") or {}, ctx.protocol_version, shape)

    async def _listed(self, ctx: ServerRequestContext[Any, Any]) -> HandlerResult:
        return await self.lists.shaped(ctx.method, ctx, self.tools.current(), self._shape)

    async def _shape(self, method: str, ctx: ServerRequestContext[Any, Any]) -> dict[str, Any]:
        return self.shaper._serialize(method, ctx.protocol_version, await self._sdk_handler(ctx))

    async def _sdk_handler(self, ctx: ServerRequestContext[Any, Any]) -> HandlerResult:
        entry = self.server.get_request_handler(ctx.method)
        assert entry is not None
        typed = entry.params_type.model_validate({} if ctx.params is None else ctx.params, by_name=False)
        return await entry.handler(ctx, typed)


def _claims_modern(headers: list[tuple[bytes, bytes]]) -> bool:
    """A request that names a 2026-era version (or an unknown one), which the SDK routes to its modern entry."""
    for key, value in headers:
        if key == b"mcp-protocol-version":
            return value.decode("latin-1") not in HANDSHAKE_PROTOCOL_VERSIONS
    return False


def _apply(middleware: Any, call_next: CallNext, ctx: ServerRequestContext[Any, Any]) -> Any:
    return middleware(ctx, call_next)
