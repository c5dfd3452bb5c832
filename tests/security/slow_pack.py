"""A test pack with a tool that takes its time and one that writes, for timeout/concurrency/scope tests."""

from __future__ import annotations

import threading

import anyio
from mcp_types import ToolAnnotations
from pydantic import BaseModel

from mcpcloud.packs import PackContext

name = "slowtest"

HOLDS: dict[str, tuple[threading.Event, threading.Event]] = {}
"""Per hold name: (started, release). The test drives them from its own thread."""


def hold_events(key: str) -> tuple[threading.Event, threading.Event]:
    return HOLDS.setdefault(key, (threading.Event(), threading.Event()))


description = "Tools for the security tests."


class Settings(BaseModel):
    model_config = {"extra": "forbid"}


def register(ctx: PackContext) -> None:
    @ctx.tool(annotations=ToolAnnotations(read_only_hint=True))
    async def nap(seconds: float) -> str:
        """Sleep, then say so."""
        await anyio.sleep(seconds)
        return f"slept {seconds}"

    @ctx.tool(annotations=ToolAnnotations(read_only_hint=False))
    def note(text: str, api_token: str = "") -> str:
        """Pretend to write a note (needs slowtest:write)."""
        return f"noted {len(text)} characters"

    @ctx.tool(annotations=ToolAnnotations(read_only_hint=True))
    async def hold(key: str) -> str:
        """Signal that the call started, then wait until the test releases it."""
        started, release = hold_events(key)
        started.set()
        await anyio.to_thread.run_sync(release.wait)
        return f"released {key}"
