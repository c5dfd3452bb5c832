"""Puts authentication and the call gate in front of the MCP endpoint, as the settings ask."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.routing import Route
from starlette.types import ASGIApp

from mcpcloud.pipeline.policies import Policies
from mcpcloud.security.authenticate import Authentication, Authenticator
from mcpcloud.security.callgate import CallGate
from mcpcloud.security.metadata import metadata_routes
from mcpcloud.server import McpCloud


@dataclass
class ProtectedEndpoint:
    app: ASGIApp
    routes: list[Route] = field(default_factory=list)
    authentication: Authentication | None = None
    policies: Policies | None = None

    async def aclose(self) -> None:
        if self.authentication is not None:
            await self.authentication.aclose()
        if self.policies is not None:
            await self.policies.aclose()


def protect(mcp_app: ASGIApp, server: McpCloud) -> ProtectedEndpoint:
    settings, policies = server.settings, server.policies
    app = mcp_app
    if policies is not None and (policies.access or policies.budget or policies.concurrency):
        metadata = None
        if settings.auth.enabled and "oauth" in settings.auth.modes:
            from mcpcloud.security.metadata import metadata_url

            metadata = metadata_url(settings.mcp_url)
        app = CallGate(app, policies, settings.http.max_body_bytes, metadata)
    if not settings.auth.enabled:
        return ProtectedEndpoint(app, policies=policies)
    scopes = policies.access.all_scopes() if policies is not None and policies.access is not None else []
    authentication = Authentication.from_settings(settings, scopes)
    routes: list[Route] = []
    if authentication.oauth is not None:
        routes = metadata_routes(
            authentication.resource, [str(settings.auth.oauth.issuer)], authentication.scopes, settings.http.path
        )
    audit = policies.audit if policies is not None else None
    return ProtectedEndpoint(Authenticator(app, authentication, audit), routes, authentication, policies)
