"""Makes the request's principal visible to the MCP pipeline and to the SDK.

`Principal` itself lives in `mcpcloud.core.principal` (re-exported here). On HTTP the
authenticator stores it in the ASGI scope, so the MCP pipeline finds it on `ctx.request.scope`
on both protocol eras (the SDK builds `ctx.request` from each POST's own scope, also within a
legacy session). It also sets the SDK's `scope["user"]`, which the session manager uses to
refuse a session to any principal but the one that opened it.
"""

from __future__ import annotations

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.authentication import AuthCredentials
from starlette.types import Scope

from mcpcloud.core.principal import (
    ALL_SCOPES,
    ANONYMOUS,
    NOBODY,
    PRINCIPAL_KEY,
    Principal,
    PrincipalKind,
    local_principal,
)

__all__ = [
    "ALL_SCOPES",
    "ANONYMOUS",
    "NOBODY",
    "PRINCIPAL_KEY",
    "Principal",
    "PrincipalKind",
    "attach",
    "local_principal",
]


def attach(scope: Scope, principal: Principal) -> AuthenticatedUser:
    """Make `principal` visible to the MCP pipeline and to the SDK's session-ownership check."""
    scope[PRINCIPAL_KEY] = principal
    token = AccessToken(
        token=principal.id,  # never the credential itself: nothing downstream needs it
        client_id=principal.client_id or principal.id,
        scopes=sorted(principal.scopes),
        subject=principal.subject or principal.id,
        claims={"iss": principal.issuer or "mcpcloud"},
    )
    user = AuthenticatedUser(token)
    scope["user"] = user
    scope["auth"] = AuthCredentials(sorted(principal.scopes))
    return user
