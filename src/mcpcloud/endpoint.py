"""Puts authentication and the engine's HTTP front in front of the MCP endpoint, as the settings ask."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.routing import Route
from starlette.types import ASGIApp

from mcpcloud.core.calls import Call
from mcpcloud.core.outcomes import Refusal
from mcpcloud.engine.engine import Engine
from mcpcloud.front import CallFront, RefusalCounter
from mcpcloud.security.authenticate import Authentication, Authenticator
from mcpcloud.security.metadata import metadata_routes, metadata_url
from mcpcloud.server import McpCloud


@dataclass
class ProtectedEndpoint:
    app: ASGIApp
    routes: list[Route] = field(default_factory=list)
    authentication: Authentication | None = None
    engine: Engine | None = None

    async def aclose(self) -> None:
        if self.authentication is not None:
            await self.authentication.aclose()
        if self.engine is not None:
            await self.engine.aclose()


def protect(mcp_app: ASGIApp, server: McpCloud) -> ProtectedEndpoint:
    settings, engine = server.settings, server.engine
    oauth = settings.auth.enabled and "oauth" in settings.auth.modes
    app = mcp_app
    if not engine.idle:
        counter = refusal_counter(engine) if settings.observability.metrics.enabled else None
        metadata = metadata_url(settings.mcp_url) if oauth else None
        app = CallFront(app, engine, settings.http.max_body_bytes, metadata, counter)
    if not settings.auth.enabled:
        return ProtectedEndpoint(app, engine=engine)
    scopes = engine.access.all_scopes() if engine.access is not None else []
    authentication = Authentication.from_settings(settings, scopes)
    routes: list[Route] = []
    if authentication.oauth is not None:
        routes = metadata_routes(
            authentication.resource, [str(settings.auth.oauth.issuer)], authentication.scopes, settings.http.path
        )
    return ProtectedEndpoint(Authenticator(app, authentication, engine.audit), routes, authentication, engine)


def refusal_counter(engine: Engine) -> RefusalCounter:
    """Counts a front refusal in the same MCP request series the pipeline's metrics stage feeds."""
    from mcpcloud.observability.mcp_metrics import bind_series
    from mcpcloud.pipeline.metrics import NO_TOOL, tool_label

    def count(call: Call, refusal: Refusal) -> None:
        label = tool_label(engine.registry, call.tool) if call.kind == "tool" else NO_TOOL
        bind_series(call.method, label).record(refusal.outcome, 0.0)

    return count
