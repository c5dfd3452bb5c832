"""Per-tool timeouts: the call is cancelled and the caller gets a tool error naming the limit."""

from __future__ import annotations

from typing import Any

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp_types import TextContent

from mcpcloud.config import LimitsSettings
from mcpcloud.errors import ConfigError
from mcpcloud.packs import ToolRegistry
from mcpcloud.pipeline.audit_outcome import note_outcome
from mcpcloud.pipeline.calls import TOOLS_CALL, tool_name
from mcpcloud.pipeline.outcome import TimedOutResult


class TimeoutStage:
    def __init__(self, default_seconds: float | None, per_tool: dict[str, float]) -> None:
        self.default_seconds = default_seconds
        self.per_tool = per_tool

    @classmethod
    def compile(cls, limits: LimitsSettings, registry: ToolRegistry) -> TimeoutStage:
        for tool, seconds in limits.tool_timeouts.items():
            if not registry.knows(tool):
                raise ConfigError(f"limits.tool_timeouts.{tool}: no enabled tool has this name")
            if seconds <= 0:
                raise ConfigError(f"limits.tool_timeouts.{tool}: must be > 0 seconds (got {seconds})")
        return cls(limits.tool_timeout_seconds or None, dict(limits.tool_timeouts))

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != TOOLS_CALL:
            return await call_next(ctx)
        tool = tool_name(ctx.params)
        seconds = self.per_tool.get(tool, self.default_seconds)
        if seconds is None:
            return await call_next(ctx)
        with anyio.move_on_after(seconds):
            return await call_next(ctx)
        # Only reached when the deadline cancelled the call.
        note_outcome("timeout")
        return TimedOutResult(
            content=[TextContent(type="text", text=f"tool {tool!r} timed out after {seconds:g} s and was cancelled")],
            is_error=True,
        )
