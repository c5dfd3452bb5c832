"""A cap on the size of a call's arguments (as compact JSON), checked before anything else runs."""

from __future__ import annotations

import json
from typing import Any

from mcpcloud.core.calls import Call
from mcpcloud.core.outcomes import Refusal, invalid
from mcpcloud.engine.policy import Policy


def argument_bytes(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode())


class ArgumentSize(Policy):
    name = "argument_size"

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    async def admit(self, call: Call) -> Refusal | None:
        if call.arguments is None:
            return None
        size = argument_bytes(call.arguments)
        if size <= self.max_bytes:
            return None
        return invalid(f"arguments of {call.kind} {call.name!r} are {size} bytes; the limit is {self.max_bytes}", 413)
