"""`tools/list` and `server/discover`: the SDK handler's result, shaped once; its JSON encoded once per visibility class.

The shaped result (the SDK's own handler, then the runner's `_serialize`: cache hints, the
per-version sieve, `resultType`, the `serverInfo` stamp) is computed on first use and again
after the tool set changes. The message pipeline still runs per request (metrics count it, list
visibility filters it for the caller); what comes out of it is one of a few results — the whole
list, or the list a class of callers may see — and each is encoded once and kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mcpcloud.fastpath.wire import dumps

Shape = Callable[[str, Any], Awaitable[dict[str, Any]]]
"""Runs the SDK's handler for (method, ctx) and shapes its result for the wire."""

_MAX_ENCODED = 1024


class ListResults:
    def __init__(self) -> None:
        self._shaped: dict[tuple[str, str], dict[str, Any]] = {}
        self._encoded: dict[Any, bytes] = {}
        self._known: set[int] = set()
        """ids of the shaped results' member lists' entries and member dicts: alive, so unique, while kept."""
        self._generation: object = None

    async def shaped(self, method: str, ctx: Any, generation: object, shape: Shape) -> dict[str, Any]:
        """The SDK's result for `method` at the context's protocol version, as of the tool set `generation`."""
        if generation is not self._generation:
            self._shaped.clear()
            self._encoded.clear()
            self._known.clear()
            self._generation = generation
        key = (method, ctx.protocol_version)
        result = self._shaped.get(key)
        if result is None:
            result = self._shaped[key] = await shape(method, ctx)
            for value in result.values():
                if type(value) is list:
                    self._known.update(map(id, value))
                elif type(value) is dict:
                    self._known.add(id(value))
        return result

    def encoded(self, result: Any) -> bytes:
        """The JSON of what the pipeline returned: one of the shaped results, or a visible subset of one."""
        key = _class_of(result, self._known)
        if key is None:
            return dumps(result)
        body = self._encoded.get(key)
        if body is None:
            if len(self._encoded) >= _MAX_ENCODED:
                self._encoded.clear()
            body = self._encoded[key] = dumps(result)
        return body


def _class_of(result: Any, known: set[int]) -> Any:
    """What makes two results encode alike: the same entry objects and the same scalar members.

    Entries are compared by identity, and only entries of a kept shaped result count: the list
    visibility stage keeps or drops them but never changes them. A result holding anything
    else is encoded afresh (its key is None).
    """
    if type(result) is not dict:
        return None
    parts: list[Any] = []
    for name, value in result.items():
        if type(value) is list:
            ids = tuple(map(id, value))
            if not known.issuperset(ids):
                return None
            parts.append((name, ids))
        elif type(value) is dict:
            if id(value) not in known:
                return None
            parts.append((name, id(value)))
        elif value is None or type(value) in (str, int, bool, float):
            parts.append((name, value))
        else:
            return None
    return tuple(parts)
