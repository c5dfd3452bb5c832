"""Turning a pack's own expected failures into `ToolError`s, whose text the caller sees."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from mcp.server.mcpserver.exceptions import ToolError

_T = TypeVar("_T")


async def reported(awaitable: Awaitable[_T], *expected: type[Exception], prefix: str = "") -> _T:
    """Await; an `expected` exception becomes a ToolError with its message (it was written for the caller)."""
    try:
        return await awaitable
    except expected as exc:
        raise ToolError(prefix + str(exc)) from None
