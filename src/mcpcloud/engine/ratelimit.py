"""Rate limits: one budget per principal for all its calls, and optionally one per principal and tool."""

from __future__ import annotations

from mcpcloud.config import LimitsSettings
from mcpcloud.core.calls import Call
from mcpcloud.core.outcomes import Refusal, rate_limited
from mcpcloud.core.registry import ToolRegistry
from mcpcloud.engine.policy import Policy
from mcpcloud.errors import ConfigError
from mcpcloud.state.ratelimit import Rate, RateLimiter


def bucket_key(principal_id: str, tool: str | None = None) -> str:
    """The rate-limit key of a principal (and tool): the principal's id, as every record names it."""
    return principal_id if tool is None else f"{principal_id}\x1f{tool}"


class CallBudget(Policy):
    name = "rate_limit"

    def __init__(self, limiter: RateLimiter, per_principal: Rate | None, per_tool: dict[str, Rate]) -> None:
        self.limiter = limiter
        self.per_principal = per_principal
        self.per_tool = per_tool

    @classmethod
    def compile(cls, limits: LimitsSettings, registry: ToolRegistry, limiter: RateLimiter) -> CallBudget | None:
        if limits.rate is None and not limits.tool_rates:
            return None
        try:
            per_principal = Rate.parse(limits.rate, limits.burst) if limits.rate else None
        except ValueError as exc:
            raise ConfigError(f"limits.rate: {exc}") from None
        per_tool: dict[str, Rate] = {}
        for tool, text in limits.tool_rates.items():
            if not registry.knows(tool):
                raise ConfigError(f"limits.tool_rates.{tool}: no enabled tool has this name")
            try:
                per_tool[tool] = Rate.parse(text)
            except ValueError as exc:
                raise ConfigError(f"limits.tool_rates.{tool}: {exc}") from None
        return cls(limiter, per_principal, per_tool)

    async def admit(self, call: Call) -> Refusal | None:
        who = call.principal.id
        if self.per_principal is not None:
            decision = await self.limiter.hit(bucket_key(who), self.per_principal)
            if not decision.allowed:
                return _limited(f"rate limit of {self.per_principal} exceeded for {who}", decision.retry_after)
        rate = self.per_tool.get(call.name) if call.kind == "tool" else None
        if rate is not None:
            decision = await self.limiter.hit(bucket_key(who, call.name), rate)
            if not decision.allowed:
                return _limited(f"rate limit of {rate} for tool {call.name!r} exceeded", decision.retry_after)
        return None

    async def aclose(self) -> None:
        closer = getattr(self.limiter, "aclose", None)
        if closer is not None:
            await closer()


def _limited(message: str, retry_after: float) -> Refusal:
    return rate_limited(f"{message}; retry after {retry_after:.1f} s", retry_after)
