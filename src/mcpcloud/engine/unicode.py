"""Refuse request parameters that are not valid Unicode, naming where.

JSON may carry a lone UTF-16 surrogate (`"\\ud800"`); Python decodes it into a `str` that cannot
be encoded as UTF-8, so the first stage or tool that writes it out (a size check, a log line, a
database driver) would fail with an internal error. It is the caller's mistake, so it is an
INVALID_PARAMS error that names the argument, before anything else looks at the request.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mcpcloud.core.calls import Call
from mcpcloud.core.outcomes import Refusal, invalid
from mcpcloud.engine.policy import Policy


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


def unicode_problem(params: Any) -> str | None:
    """What is wrong with `params` (a request's JSON-RPC params), naming the argument; None when all is valid."""
    found = next(invalid_unicode(params, ""), None) if isinstance(params, dict) else None
    if found is None:
        return None
    path, char, index = found
    where = f"argument {path.removeprefix('arguments.')!r}" if path.startswith("arguments.") else f"parameter {path!r}"
    return (
        f"{where} is not valid Unicode: a lone surrogate U+{ord(char):04X} at index {index}; "
        "send the character itself (UTF-8) or a complete surrogate pair"
    )


def lone_surrogate_escape(text: str | bytes) -> bool:
    """Cheap pre-check for JSON text that may decode to a lone surrogate (`\\udXXX` escapes)."""
    lowered = text.lower()
    return (b"\\ud" if isinstance(lowered, bytes) else "\\ud") in lowered


class ValidUnicode(Policy):
    """First of all policies: nothing after it has to cope with text that cannot be encoded."""

    name = "valid_unicode"

    async def admit(self, call: Call) -> Refusal | None:
        problem = unicode_problem({"name": call.name, "arguments": call.arguments})
        return invalid(problem) if problem is not None else None
