"""What the stages read off a request: the caller, the tool, and whether HTTP already checked it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcp.server.context import ServerRequestContext

from mcpcloud.security.principal import PRINCIPAL_KEY, Principal

TOOLS_CALL = "tools/call"
TOOLS_LIST = "tools/list"
GATED_KEY = "mcpcloud.gated_tool"
"""Set by the HTTP call gate to the tool it authorized and counted, so the stages do not repeat it."""


def tool_name(params: Mapping[str, Any] | None) -> str:
    name = params.get("name") if params else None
    return name if isinstance(name, str) else ""


def arguments(params: Mapping[str, Any] | None) -> Any:
    return params.get("arguments") if params else None


class PrincipalSource:
    """Finds the caller: the authenticated principal on HTTP, the configured local one on stdio."""

    def __init__(self, local: Principal, http_default: Principal) -> None:
        self.local = local
        self.http_default = http_default

    def __call__(self, ctx: ServerRequestContext[Any, Any]) -> Principal:
        request = ctx.request
        if request is None:
            return self.local
        return request.scope.get(PRINCIPAL_KEY, self.http_default)


def gated(ctx: ServerRequestContext[Any, Any], tool: str) -> bool:
    request = ctx.request
    return request is not None and request.scope.get(GATED_KEY) == tool
