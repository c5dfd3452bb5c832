"""Per-tool timeouts: the call is cancelled and the caller gets a tool error naming the limit."""

from __future__ import annotations

from typing import Any

import anyio
from mcp_types import TextContent

from mcpcloud.config import LimitsSettings
from mcpcloud.core.calls import Call
from mcpcloud.core.outcomes import TimedOutResult
from mcpcloud.core.registry import ToolRegistry
from mcpcloud.engine.policy import Policy, Proceed
from mcpcloud.errors import ConfigError


class ToolTimeout(Policy):
    name = "timeout"

    def __init__(self, default_seconds: float | None, per_tool: dict[str, float]) -> None:
        self.default_seconds = default_seconds
        self.per_tool = per_tool

    @classmethod
    def compile(cls, limits: LimitsSettings, registry: ToolRegistry) -> ToolTimeout | None:
        if not limits.tool_timeout_seconds and not limits.tool_timeouts:
            return None
        for tool, seconds in limits.tool_timeouts.items():
            if not registry.knows(tool):
                raise ConfigError(f"limits.tool_timeouts.{tool}: no enabled tool has this name")
            if seconds <= 0:
                raise ConfigError(f"limits.tool_timeouts.{tool}: must be > 0 seconds (got {seconds})")
        return cls(limits.tool_timeout_seconds or None, dict(limits.tool_timeouts))

    async def around(self, call: Call, proceed: Proceed) -> Any:
        seconds = self.per_tool.get(call.name, self.default_seconds) if call.kind == "tool" else None
        if seconds is None:
            return await proceed()
        with anyio.move_on_after(seconds):
            return await proceed()
        # Only reached when the deadline cancelled the call.
        return TimedOutResult(
            content=[
                TextContent(type="text", text=f"tool {call.name!r} timed out after {seconds:g} s and was cancelled")
            ],
            is_error=True,
        )
