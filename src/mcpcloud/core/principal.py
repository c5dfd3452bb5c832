"""Who is calling: the one identity that logs, traces, the audit log, rate limits and cache keys name.

Authentication establishes it on HTTP (API key or OAuth token); on stdio it is the configured
local principal; with authentication off on loopback it is `anonymous`. Everything downstream
reads `Principal.id` (stable, never a credential) and nothing else, so a log line, its trace,
its audit record and its rate-limit bucket always agree on who called.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

PRINCIPAL_KEY = "mcpcloud.principal"
"""Where the HTTP layer leaves the request's principal in the ASGI scope."""
ALL_SCOPES = "*"

PrincipalKind = Literal["api_key", "oauth", "local", "anonymous"]


@dataclass(frozen=True, slots=True)
class Principal:
    id: str
    """`key:<id>`, `sub:<subject>`, `local:<name>` or `anonymous`: the name every record uses."""
    kind: PrincipalKind
    scopes: frozenset[str]
    subject: str | None = None
    client_id: str | None = None
    issuer: str | None = None
    name: str | None = None
    aliases: tuple[str, ...] = field(default=())

    @property
    def display(self) -> str:
        """For people: the key's or user's name next to the id when there is one."""
        return f"{self.name} ({self.id})" if self.name else self.id

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
"""Never expected to reach a policy with authentication on; holds no scope, so fails closed."""


def local_principal(name: str, scopes: list[str] | tuple[str, ...]) -> Principal:
    return Principal(id=f"local:{name}", kind="local", scopes=frozenset(scopes), name=name)


class Identity:
    """Finds the caller of a request: the authenticated principal on HTTP, the local one on stdio.

    The one answer to "who is calling" for the engine, the pipeline's log and span fields and the
    packs (`PackContext.caller`).
    """

    def __init__(self, local: Principal, http_default: Principal) -> None:
        self.local = local
        self.http_default = http_default

    @classmethod
    def from_settings(cls, local_name: str, local_scopes: list[str], auth_enabled: bool) -> Identity:
        # With authentication on, a request that somehow carries no principal holds no scope (fails closed).
        return cls(local_principal(local_name, local_scopes), NOBODY if auth_enabled else ANONYMOUS)

    def of_scope(self, scope: Mapping[str, Any]) -> Principal:
        """The principal of an HTTP request (its ASGI scope)."""
        return scope.get(PRINCIPAL_KEY) or self.http_default

    def of_request(self, request: Any) -> Principal:
        """The principal of an MCP request: `request` is the SDK's `ctx.request` (None on stdio)."""
        return self.local if request is None else self.of_scope(request.scope)
