"""The /metrics endpoint, on the main port or on a listener of its own, optionally behind a token."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mcpcloud.config import MetricsSettings
from mcpcloud.health import Health
from mcpcloud.observability import metrics

METRICS_PATH = "/metrics"


def metrics_route(health: Health, settings: MetricsSettings) -> Route:
    token = settings.bearer_token.get_secret_value().encode() if settings.bearer_token else None

    async def serve_metrics(request: Request) -> Response:
        if token is not None and not _bearer_matches(request, token):
            return JSONResponse(
                {"error": "unauthorized", "message": "/metrics needs 'Authorization: Bearer <metrics token>'"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        # Readiness is read at scrape time, so the series is fresh even when nothing probes.
        report = await health.report()
        metrics.record_readiness(report.ready, {name: r.ready for name, r in report.checks.items()})
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    return Route(METRICS_PATH, serve_metrics, methods=["GET"])


def _bearer_matches(request: Request, token: bytes) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token)


class _ListenerServer(uvicorn.Server):
    """A uvicorn server that leaves signals to the main server, whose lifespan runs it."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def metrics_listener(host: str, health: Health, settings: MetricsSettings) -> AsyncIterator[None]:
    """Serve /metrics on `settings.port` for as long as the context is open (no-op without a port)."""
    if settings.port is None or not settings.enabled:
        yield
        return
    from mcpcloud.observability.http import HttpObservability

    app = Starlette(routes=[metrics_route(health, settings)])
    config = uvicorn.Config(
        HttpObservability(app, mcp_path="", access_log=True),
        host=host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="off",
        server_header=False,
    )
    server = _ListenerServer(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        try:
            yield
        finally:
            server.should_exit = True
