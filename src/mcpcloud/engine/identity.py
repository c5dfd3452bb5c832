"""Finds the caller of a request: the authenticated principal on HTTP, the local one on stdio."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcpcloud.core.principal import ANONYMOUS, NOBODY, PRINCIPAL_KEY, Principal, local_principal


class Identity:
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
