"""A test-only pack, enabled by module path (`tests.packs.slow`): a tool that takes its time."""

from __future__ import annotations

import anyio
from mcp_types import ToolAnnotations
from pydantic import BaseModel

from mcpcloud.packs import PackContext

name = "slow"
description = "A tool that sleeps, for shutdown and timeout tests."


class Settings(BaseModel):
    model_config = {"extra": "forbid"}


def register(ctx: PackContext) -> None:
    @ctx.tool(annotations=ToolAnnotations(read_only_hint=True))
    async def sleep_then_echo(seconds: float, message: str) -> str:
        """Sleep for `seconds`, then return the message."""
        await anyio.sleep(seconds)
        return message
