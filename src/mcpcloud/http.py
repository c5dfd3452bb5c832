"""The ASGI application: routes, HTTP-only middleware, lifespan and graceful shutdown.

Only HTTP matters live here (probes, Host/Origin, body size, draining). Everything about
tools runs in the MCP message pipeline, which stdio shares.
"""

from __future__ import annotations

import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

import uvicorn
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcpcloud.endpoint import protect
from mcpcloud.health import Health
from mcpcloud.http_body_timeout import BodyReadTimeout
from mcpcloud.http_errors import json_rpc_error_response
from mcpcloud.http_session_caps import session_endpoint, sessions_for_memory
from mcpcloud.http_state_faults import StateFaultResponder
from mcpcloud.observability.http import HttpObservability
from mcpcloud.observability.metrics import mark_process_dead
from mcpcloud.observability.metrics_endpoint import metrics_listener, metrics_route
from mcpcloud.security.origin import OriginGuard, OriginPolicy
from mcpcloud.server import McpCloud
from mcpcloud.workers import upkeep as metrics_upkeep

PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


@dataclass
class Drain:
    """Shutdown state: once begun, new requests are refused and in-flight ones are awaited."""

    health: Health
    grace_seconds: float
    in_flight: int = 0
    deadline: float | None = None

    def begin(self) -> None:
        if self.deadline is None:
            self.health.draining = True
            self.deadline = time.monotonic() + self.grace_seconds

    @property
    def begun(self) -> bool:
        return self.deadline is not None

    def finished(self) -> bool:
        if self.deadline is None:
            return False
        return self.in_flight == 0 or time.monotonic() >= self.deadline


class DrainGate:
    """Counts requests in flight and, once draining, refuses new ones with 503.

    Long-lived GET streams (legacy-era server-to-client SSE) are not counted: they would
    hold every shutdown to the full grace period, and clients reconnect them anyway.
    """

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app = app
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBE_PATHS:
            await self.app(scope, receive, send)
            return
        if self.drain.begun:
            response = json_rpc_error_response(
                503,
                "server is shutting down; retry on another replica",
                headers={"Retry-After": "1", "Connection": "close"},
            )
            await response(scope, receive, send)
            return
        if scope["method"] == "GET":
            await self.app(scope, receive, send)
            return
        self.drain.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.drain.in_flight -= 1


class StripHeaderWhitespace:
    """Trim optional whitespace around `Mcp-*` header values, which RFC 9110 says is not part of them.

    httptools keeps trailing spaces, and the SDK compares `Mcp-Method`/`Mcp-Name` to the body
    byte for byte, so `Mcp-Name: echo ` would be refused as a mismatch.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = scope.get("headers")
        if headers and any(name.startswith(b"mcp-") and value != value.strip(b" \t") for name, value in headers):
            scope = dict(scope)
            scope["headers"] = [
                (name, value.strip(b" \t") if name.startswith(b"mcp-") else value) for name, value in headers
            ]
        await self.app(scope, receive, send)


class ExplainNotAcceptable:
    """Give the SDK's bare 406 (wrong or missing `Accept`) a JSON-RPC error body saying what to send.

    The 2026-07-28 path answers 406 with an empty body, so a client sees only a status code.
    """

    MESSAGE = (
        "Not Acceptable: the Accept header must list application/json and text/event-stream "
        "(e.g. `Accept: application/json, text/event-stream`)"
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: dict[str, Any] | None = None

        async def explaining_send(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start" and message["status"] == 406:
                held = message  # wait for the body: the legacy path already sends a JSON-RPC one
                return
            if held is not None and message["type"] == "http.response.body":
                start, held = held, None
                if not message.get("body") and not message.get("more_body"):
                    await json_rpc_error_response(406, self.MESSAGE)(scope, receive, send)
                    return
                await send(start)
            await send(message)

        await self.app(scope, receive, explaining_send)


def build_app(server: McpCloud, drain: Drain | None = None) -> Starlette:
    settings = server.settings
    health = server.health
    drain = drain or Drain(health, settings.http.shutdown_grace_seconds)
    sessions = settings.sessions
    max_per_process = sessions.max_per_process or sessions_for_memory()
    session_manager = StreamableHTTPSessionManager(
        app=server.mcp._lowlevel_server,  # the SDK exposes no public accessor for the low-level server
        # Host/Origin are checked by OriginGuard; the SDK still validates Content-Type.
        security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        max_request_body_size=settings.http.max_body_bytes,
        session_idle_timeout=sessions.idle_timeout_minutes * 60,
        max_sessions=max_per_process,
    )
    mcp_app: ASGIApp = session_endpoint(session_manager, server, max_per_process)
    if settings.http.fast_path:
        from mcpcloud.fastpath import FastPath

        # Behind authentication and the engine's front, so every HTTP policy and call decision holds on it too;
        # 2025-era sessions only while they live in this process (shared sessions keep their records in Redis).
        mcp_app = FastPath(
            mcp_app, server.mcp, session_manager, settings.http.max_body_bytes, local_sessions=server.shared is None
        )
    # Authentication and the tool-call gate sit inside the Origin guard, right before the SDK.
    protected = protect(mcp_app, server)
    sdk = ExplainNotAcceptable(StripHeaderWhitespace(protected.app))
    mcp_endpoint = StateFaultResponder(OriginGuard(sdk, OriginPolicy.from_settings(settings)), server.engine.audit)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "alive", "version": health.version})

    async def readyz(_: Request) -> Response:
        report = await health.report()
        return JSONResponse(report.as_json(), status_code=200 if report.ready else 503)

    observability = settings.observability

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with (
            session_manager.run(),
            metrics_listener(settings.host, health, observability.metrics),
            metrics_upkeep(health),
        ):
            try:
                yield
            finally:
                await protected.aclose()
                mark_process_dead()

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route(settings.http.path, mcp_endpoint, methods=["GET", "POST", "DELETE"]),
        *protected.routes,
    ]
    if observability.metrics.enabled and observability.metrics.port is None:
        routes.append(metrics_route(health, observability.metrics))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(BodyReadTimeout, seconds=settings.http.body_timeout_seconds)
    app.add_middleware(DrainGate, drain=drain)
    app.add_middleware(
        HttpObservability,
        mcp_path=settings.http.path,
        access_log=observability.access_log,
        metrics_enabled=observability.metrics.enabled,
    )
    return app


class DrainingServer(uvicorn.Server):
    """uvicorn, but SIGTERM drains first: readiness 503, refuse new work, finish in-flight, exit 0."""

    def __init__(self, config: uvicorn.Config, drain: Drain) -> None:
        super().__init__(config)
        self.drain = drain

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.drain.begun and sig == signal.SIGINT:
            # A second Ctrl-C means "now".
            self.should_exit = True
            self.force_exit = True
            return
        # Not recorded in _captured_signals: uvicorn would re-raise it after shutdown and
        # the default SIGTERM action would turn a clean drain into exit status 143.
        self.drain.begin()

    async def on_tick(self, counter: int) -> bool:
        if await super().on_tick(counter):
            return True
        return self.drain.finished()


def serve_http(server: McpCloud) -> None:
    settings = server.settings
    drain = Drain(server.health, settings.http.shutdown_grace_seconds)
    config = uvicorn.Config(
        build_app(server, drain),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        # In-flight work was already awaited by the drain; what is left is idle streams.
        timeout_graceful_shutdown=1,
        server_header=False,
    )
    DrainingServer(config, drain).run()
