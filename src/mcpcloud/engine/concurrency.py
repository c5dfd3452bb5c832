"""A cap on the calls one principal may have in flight at once (per process)."""

from __future__ import annotations

from mcpcloud.core.calls import Call
from mcpcloud.core.outcomes import Refusal, rate_limited
from mcpcloud.engine.policy import Policy


class ConcurrencyCap(Policy):
    name = "concurrency"

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._in_flight: dict[str, int] = {}

    async def admit(self, call: Call) -> Refusal | None:
        who = call.principal.id
        count = self._in_flight.get(who, 0)
        if count >= self.limit:
            return rate_limited(
                f"{who} already has {self.limit} tool calls in flight (the limit; resource reads and prompts count too)",
                1.0,
            )
        self._in_flight[who] = count + 1
        return None

    def release(self, call: Call) -> None:
        who = call.principal.id
        remaining = self._in_flight[who] - 1
        if remaining:
            self._in_flight[who] = remaining
        else:
            del self._in_flight[who]
