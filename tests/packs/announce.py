"""A test-only pack (`tests.packs.announce`): a tool that sends a notification on the session's standalone channel."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context
from mcp_types import ToolAnnotations
from pydantic import BaseModel

from mcpcloud.packs import PackContext

name = "announce"
description = "Server-initiated notifications not tied to a request, for multi-replica tests."


class Settings(BaseModel):
    model_config = {"extra": "forbid"}


def register(ctx: PackContext) -> None:
    @ctx.tool(annotations=ToolAnnotations(read_only_hint=True))
    async def announce_tools_changed(context: Context[Any, Any]) -> str:
        """Tell the client (on its GET stream, wherever that is) that the tool list changed."""
        await context.session.send_tool_list_changed()
        return "announced"
