"""A test-only pack (`tests.packs.shapes`): tools whose results and failures take every shape the SDK converts.

tests/test_fastpath_differential.py calls each with the fast path on and off and requires the same answer.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from mcpcloud.packs import PackContext

name = "shapes"
description = "Tools with every result and failure shape, for the fast-path differential test."

READ_ONLY = ToolAnnotations(read_only_hint=True)


class Settings(BaseModel):
    model_config = {"extra": "forbid"}


class Point(BaseModel):
    x: int
    y: int = 0


class Summary(BaseModel):
    count: int
    total: float = Field(description="Sum of the values.")
    labels: list[str]


def register(ctx: PackContext) -> None:
    @ctx.tool(annotations=READ_ONLY)
    def add(a: int, b: int = 2) -> int:
        """Add two integers (a sync tool: the SDK runs it on a worker thread)."""
        return a + b

    @ctx.tool(annotations=READ_ONLY)
    async def summarize(values: list[float], labels: list[str] | None = None) -> Summary:
        """A structured result from a list argument (which clients may send JSON-encoded)."""
        return Summary(count=len(values), total=sum(values), labels=labels or [])

    @ctx.tool(annotations=READ_ONLY)
    async def move(point: Point, dx: int = 1) -> dict[str, int]:
        """A nested model argument and a dict result."""
        return {"x": point.x + dx, "y": point.y}

    @ctx.tool(annotations=READ_ONLY)
    async def listing(n: int) -> list[str]:
        """A list result (several content blocks)."""
        return [f"item {i}" for i in range(n)]

    @ctx.tool(annotations=READ_ONLY)
    async def nothing() -> None:
        """No result at all."""

    @ctx.tool(annotations=READ_ONLY)
    async def refuse(reason: str) -> str:
        """Always fails with a ToolError naming the reason."""
        raise ToolError(f"refused: {reason}")

    @ctx.tool(annotations=READ_ONLY)
    async def crash() -> str:
        """Always crashes (its own message must not reach the client)."""
        raise ValueError("secret internal detail")

    @ctx.tool(annotations=READ_ONLY)
    async def with_context(message: str, ctx: Context) -> str:
        """Takes the request Context: never on the fast path."""
        return f"{message} ({ctx.request_id})"

    @ctx.tool(annotations=READ_ONLY)
    async def short_text(message: str) -> Annotated[str, Field(max_length=5)]:
        """A constrained text result: the SDK validates each one (a long one is a tool error)."""
        return message

    @ctx.tool(annotations=READ_ONLY, structured_output=False)
    async def plain_text(message: str) -> str:
        """A text result without an output schema."""
        return message
