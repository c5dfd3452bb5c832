"""The HTTP request id an MCP request came with, as the pipeline sees it.

The HTTP layer records it on the ASGI scope (`scope["state"]["request_id"]`, set by
`observability.http.HttpObservability`), which the SDK hands to the pipeline as `ctx.request`.
Who made the request is `mcpcloud.engine.identity.Identity`'s answer, the same for every record.
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import ServerRequestContext


def request_id_of(ctx: ServerRequestContext[Any, Any]) -> str | None:
    request = ctx.request
    if request is None:
        return None
    state = request.scope.get("state")
    return state.get("request_id") if state else None
