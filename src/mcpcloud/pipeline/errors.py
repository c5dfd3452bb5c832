"""Errors that name what was wrong, on both protocol eras.

The SDK raises `ValueError("Unknown prompt: x")` / `ValueError("Missing required arguments: …")`
from `prompts/get`. The handshake era passes that text on; the 2026-07-28 path masks any
non-MCP exception as "Internal server error", so the caller cannot tell a typo from a crash.
A bad prompt name or argument is the caller's mistake: it becomes INVALID_PARAMS with the text.
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

CALLER_MISTAKE_METHODS = frozenset({"prompts/get"})


async def name_caller_mistakes(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    if ctx.method not in CALLER_MISTAKE_METHODS:
        return await call_next(ctx)
    try:
        return await call_next(ctx)
    except ValueError as exc:
        raise MCPError(INVALID_PARAMS, str(exc)) from exc
