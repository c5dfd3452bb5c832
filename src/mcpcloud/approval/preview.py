"""What a pack tells the approval step about one call: what will happen, and whether it changes anything.

A pack attaches a preview function to a tool with `@previewed_by(...)` (under `@ctx.tool`); the
approval wrapper calls it with the call's validated arguments before asking the person. The
preview may raise `ToolError` (a path outside the roots, an edit that does not apply): the call
is then refused before anyone is asked.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from pydantic_core import to_jsonable_python

PREVIEW_ATTRIBUTE = "__mcpcloud_preview__"
MAX_SUMMARY_CHARS = 6000
"""An approval question longer than this is cut: a person does not read more, and clients may refuse it."""

_F = TypeVar("_F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Preview:
    summary: str
    """What will happen, in words a person checks before approving (path and diff, argv and cwd)."""
    destructive: bool | None = None
    """Whether this call changes anything; None: go by the tool's annotations."""


PreviewFunction = Callable[[dict[str, Any]], Preview | Awaitable[Preview]]


def previewed_by(preview: PreviewFunction) -> Callable[[_F], _F]:
    def attach(fn: _F) -> _F:
        setattr(fn, PREVIEW_ATTRIBUTE, preview)
        return fn

    return attach


async def preview_of(fn: Callable[..., Any], tool: str, arguments: dict[str, Any]) -> Preview:
    """The pack's own preview of this call, or the arguments as JSON when it has none."""
    custom = getattr(fn, PREVIEW_ATTRIBUTE, None)
    if custom is None:
        return Preview(summary=with_arguments(f"Call {tool}", arguments))
    if inspect.iscoroutinefunction(custom):
        return await custom(arguments)
    return await anyio.to_thread.run_sync(custom, arguments)  # previews read files: not on the event loop


def with_arguments(action: str, arguments: dict[str, Any]) -> str:
    """The generic preview: what is called, then its arguments as JSON."""
    shown = json.dumps(to_jsonable_python(arguments), indent=2, ensure_ascii=False)
    return f"{action} with arguments:\n{shown}"


def clipped(text: str) -> str:
    if len(text) <= MAX_SUMMARY_CHARS:
        return text
    return text[:MAX_SUMMARY_CHARS] + f"\n[... {len(text) - MAX_SUMMARY_CHARS} more characters not shown]"
