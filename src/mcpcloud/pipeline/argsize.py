"""A cap on the size of tool-call arguments (as compact JSON), checked before anything else runs."""

from __future__ import annotations

import json
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

from mcpcloud.pipeline.calls import TOOLS_CALL, arguments, tool_name
from mcpcloud.pipeline.refusal import INVALID_PARAMS, Refusal


def argument_bytes(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode())


class ArgumentSizeStage:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == TOOLS_CALL:
            args = arguments(ctx.params)
            if args is not None:
                size = argument_bytes(args)
                if size > self.max_bytes:
                    raise Refusal(
                        "invalid", 413, INVALID_PARAMS,
                        f"arguments of tool {tool_name(ctx.params)!r} are {size} bytes; the limit is {self.max_bytes}",
                    ).error()
        return await call_next(ctx)
