"""Who is calling: the identity authentication establishes and every policy reads.

On HTTP the authenticator stores the principal in the ASGI scope, so the MCP pipeline finds
it on `ctx.request.scope` on both protocol eras (the SDK builds `ctx.request` from each
POST's own scope, also within a legacy session). It also sets the SDK's `scope["user"]`, which
the session manager uses to refuse a session to any principal but the one that opened it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.authentication import AuthCredentials
from starlette.types import Scope

PRINCIPAL_KEY = "mcpcloud.principal"
ALL_SCOPES = "*"

PrincipalKind = Literal["api_key", "oauth", "local", "anonymous"]


@dataclass(frozen=True)
class Principal:
    id: str
    kind: PrincipalKind
    scopes: frozenset[str]
    subject: str | None = None
    client_id: str | None = None
    issuer: str | None = None
    name: str | None = None
    aliases: tuple[str, ...] = field(default=())

    def has_scope(self, scope: str) -> bool:
        return ALL_SCOPES in self.scopes or scope in self.scopes

    def missing_scopes(self, required: tuple[str, ...]) -> tuple[str, ...]:
        if ALL_SCOPES in self.scopes:
            return ()
        return tuple(s for s in required if s not in self.scopes)

    @property
    def identities(self) -> tuple[str, ...]:
        """Every name a configuration rule may use for this principal."""
        return (self.id, *self.aliases)

    def audit_fields(self) -> dict[str, str]:
        fields = {"principal": self.id, "kind": self.kind}
        if self.subject:
            fields["subject"] = self.subject
        if self.client_id:
            fields["client_id"] = self.client_id
        return fields


ANONYMOUS = Principal(id="anonymous", kind="anonymous", scopes=frozenset({ALL_SCOPES}))
"""Who calls when authentication is off (allowed on loopback only)."""

NOBODY = Principal(id="unauthenticated", kind="anonymous", scopes=frozenset())
"""Never expected to reach the pipeline with authentication on; holds no scope, so fails closed."""


def local_principal(name: str, scopes: list[str]) -> Principal:
    return Principal(id=f"local:{name}", kind="local", scopes=frozenset(scopes), name=name)


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
