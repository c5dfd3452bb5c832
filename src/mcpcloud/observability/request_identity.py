"""Who made an MCP request and under which HTTP request id, as the pipeline sees it.

The HTTP layer records both on the ASGI scope, which the SDK hands to the pipeline as
`ctx.request`: `scope["state"]["request_id"]` (set by `observability.http.HttpObservability`)
and the principal, which authentication stores either as Starlette's `scope["user"]`
(an authenticated `BaseUser`; its `display_name`) or as `scope["state"]["principal"]` (a str).
On stdio there is no HTTP request: the caller is the local user who spawned the server.
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import ServerRequestContext

LOCAL_PRINCIPAL = "local"
ANONYMOUS = "anonymous"


def request_id_of(ctx: ServerRequestContext[Any, Any]) -> str | None:
    request = ctx.request
    if request is None:
        return None
    state = request.scope.get("state")
    return state.get("request_id") if state else None


def principal_of(ctx: ServerRequestContext[Any, Any]) -> str:
    request = ctx.request
    if request is None:
        return LOCAL_PRINCIPAL
    scope = request.scope
    state = scope.get("state")
    if state:
        principal = state.get("principal")
        if isinstance(principal, str) and principal:
            return principal
    user = scope.get("user")
    if user is not None and getattr(user, "is_authenticated", False):
        return str(user.display_name)
    return ANONYMOUS
