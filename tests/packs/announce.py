"""A test-only pack (`tests.packs.announce`): a tool that sends a notification on the session's standalone channel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
from mcp.server.mcpserver import Context
from mcp_types import ToolAnnotations
from tests.packs.slow import Settings  # the same empty settings model

from mcpcloud.packs import PackContext

__all__ = ["Settings", "description", "name", "register"]

name = "announce"
description = "Server-initiated notifications not tied to a request, for multi-replica tests."


def register(ctx: PackContext) -> None:
    @ctx.tool(annotations=ToolAnnotations(read_only_hint=True))
    async def announce_tools_changed(context: Context[Any, Any]) -> str:
        """Tell the client (on its GET stream, wherever that is) that the tool list changed."""
        await context.session.send_tool_list_changed()
        return "announced"

    @ctx.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False))
    async def sleep_then_mark(seconds: float, path: str) -> str:
        """Sleep, then create the file at `path`: shows whether a cancellation stopped the call."""
        await anyio.sleep(seconds)
        Path(path).write_text("ran to the end")
        return "marked"
