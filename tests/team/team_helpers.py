"""Helpers of the team-pack tests: the server built in-process and driven by the SDK's own client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp import Client

from mcpcloud.config import load_settings
from mcpcloud.server import build


@asynccontextmanager
async def pack_client(packs: str, pack: dict[str, Any], **settings: Any) -> AsyncIterator[Client]:
    """`mcp.Client` connected in-process to a server with these packs, through the whole pipeline."""
    server = build(load_settings(packs=packs, pack=pack, **settings))
    async with Client(server.mcp) as client:
        yield client


def refusal(result: Any) -> str:
    """The text of a tool error result (fails the test if the call succeeded)."""
    assert result.is_error, f"expected an error, got {result.structured_content}"
    return str(result.content[0].text)
