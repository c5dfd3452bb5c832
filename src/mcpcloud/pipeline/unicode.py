"""Refuse request parameters that are not valid Unicode, naming where.

JSON may carry a lone UTF-16 surrogate (`"\\ud800"`); Python decodes it into a `str` that cannot
be encoded as UTF-8, so the first stage or tool that writes it out (a size check, a log line, a
database driver) would fail with an internal error. It is the caller's mistake, so it is an
INVALID_PARAMS error that names the argument, before anything else looks at the request.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

from mcpcloud.pipeline.refusal import INVALID_PARAMS, Refusal


def invalid_unicode(value: Any, path: str) -> Iterator[tuple[str, str, int]]:
    """(where, the character, its index) for every string under `value` holding a lone surrogate."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            yield path, value[exc.start], exc.start
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from invalid_unicode(key, f"{path} (a key)")
            yield from invalid_unicode(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (list, tuple)):
        for position, item in enumerate(value):
            yield from invalid_unicode(item, f"{path}[{position}]")


def _where(path: str) -> str:
    if path.startswith("arguments."):
        return f"argument {path.removeprefix('arguments.')!r}"
    return f"parameter {path!r}"


async def refuse_invalid_unicode(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    found = next(invalid_unicode(ctx.params, ""), None) if isinstance(ctx.params, dict) else None
    if found is not None:
        where, char, index = found
        raise Refusal(
            "invalid", 400, INVALID_PARAMS,
            f"{_where(where)} is not valid Unicode: a lone surrogate U+{ord(char):04X} at index {index}; "
            "send the character itself (UTF-8) or a complete surrogate pair",
        ).error()  # fmt: skip
    return await call_next(ctx)

