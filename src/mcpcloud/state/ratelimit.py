"""Rate limiting with the generic cell rate algorithm (GCRA): one timestamp per key.

A key is allowed `burst` calls at once and then one call every `period / count` seconds.
The in-memory limiter serves one process; the Redis limiter runs the same arithmetic in a
Lua script against the Redis server's clock, so every replica draws on one budget.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from mcpcloud.config import Settings
from mcpcloud.state.errors import StateUnavailable, report_fault

if TYPE_CHECKING:  # redis is imported only where a Redis backend is configured (stdio cold start)
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)
FEATURE = "rate limit"

_UNITS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+\s*)?(second|minute|hour|day)s?\s*$")


@dataclass(frozen=True)
class Rate:
    count: int
    period_seconds: float
    burst: int
    text: str = ""

    @classmethod
    def parse(cls, text: str, burst: int | None = None) -> Rate:
        """`60/minute`, `10/second`, `1000/hour`, `5/10 minutes`."""
        match = _RATE.match(text)
        if not match or int(match.group(1)) <= 0:
            raise ValueError(f"{text!r} is not a rate like '60/minute' (units: second, minute, hour, day)")
        count = int(match.group(1))
        period = float(match.group(2) or 1) * _UNITS[match.group(3)]
        return cls(count=count, period_seconds=period, burst=burst or count, text=text.strip())

    @property
    def interval(self) -> float:
        return self.period_seconds / self.count

    @property
    def tolerance(self) -> float:
        return self.interval * self.burst

    def __str__(self) -> str:
        shown = self.text or f"{self.count}/{self.period_seconds:g} seconds"
        return shown if self.burst == self.count else f"{shown} (burst {self.burst})"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0


ALLOWED = Decision(True)
_EPSILON = 1e-6


class RateLimiter(Protocol):
    async def hit(self, key: str, rate: Rate) -> Decision:
        """Spend one call of `key`'s budget, or say how long until one is available."""
        ...


def gcra(tat: float, now: float, rate: Rate) -> tuple[float, Decision]:
    """New theoretical arrival time and the decision, for a stored `tat` (0 when none)."""
    new_tat = max(tat, now) + rate.interval
    # Computed from the backlog, not from `new_tat - now`, which floating point rounds above the
    # tolerance when the bucket is exactly full; the epsilon absorbs what rounding remains.
    excess = max(tat - now, 0.0) + rate.interval - rate.tolerance
    if excess > _EPSILON:
        return tat, Decision(False, excess)
    return new_tat, ALLOWED


class MemoryRateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._tats: dict[str, float] = {}
        self._clock = clock

    async def hit(self, key: str, rate: Rate) -> Decision:
        now = self._clock()
        tat, decision = gcra(self._tats.get(key, 0.0), now, rate)
        if decision.allowed:
            self._tats[key] = tat
            if len(self._tats) > 100_000:
                self._forget_idle(now)
        return decision

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, tat in self._tats.items() if tat < now]:
            del self._tats[key]


# KEYS[1]: the bucket; ARGV: interval, tolerance (seconds). Returns {allowed, retry_after_ms}.
_GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local backlog = tat - now
if backlog < 0 then backlog = 0 end
local new_tat = now + backlog + interval
local excess = backlog + interval - tolerance
if excess > 0.000001 then
  return {0, math.ceil(excess * 1000)}
end
redis.call('SET', KEYS[1], string.format('%.6f', new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1000)
return {1, 0}
"""


class RedisRateLimiter:
    """Shared budgets; when Redis cannot answer: `StateUnavailable` (503), or allow when `fail_open`."""

    def __init__(self, redis: Redis, prefix: str, *, fail_open: bool = False, retry_after: int = 5) -> None:
        self.redis = redis
        self._script = redis.register_script(_GCRA_LUA)
        self._prefix = prefix + "ratelimit:"
        self.fail_open = fail_open
        self.retry_after = retry_after

    @classmethod
    def from_settings(cls, settings: Settings) -> RedisRateLimiter:
        from mcpcloud.state.redis import redis_client

        redis = settings.redis
        return cls(
            redis_client(redis), redis.key_prefix, fail_open=settings.limits.fail_open,
            retry_after=redis.retry_after_seconds,
        )  # fmt: skip

    async def aclose(self) -> None:
        await self.redis.aclose()

    async def hit(self, key: str, rate: Rate) -> Decision:
        from mcpcloud.state.redis import answering

        try:
            async with answering(FEATURE, self.retry_after, count=not self.fail_open):
                allowed, retry_ms = await self._script(keys=[self._prefix + key], args=[rate.interval, rate.tolerance])
        except StateUnavailable as exc:
            if not self.fail_open:
                raise
            report_fault(FEATURE, "failed_open")
            logger.warning("%s; limits.fail_open: call allowed without a rate limit", exc)
            return ALLOWED
        return ALLOWED if int(allowed) else Decision(False, int(retry_ms) / 1000)
