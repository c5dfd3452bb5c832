"""Rate limits on tool calls: one budget per principal, and optionally one per principal and tool."""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

from mcpcloud.config import LimitsSettings
from mcpcloud.errors import ConfigError
from mcpcloud.packs import ToolRegistry
from mcpcloud.pipeline.calls import TOOLS_CALL, PrincipalSource, gated, tool_name
from mcpcloud.pipeline.refusal import RATE_LIMITED, Refusal
from mcpcloud.security.principal import Principal
from mcpcloud.state.ratelimit import Rate, RateLimiter


class CallBudget:
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

    async def refusal(self, principal: Principal, tool: str) -> Refusal | None:
        if self.per_principal is not None:
            decision = await self.limiter.hit(principal.id, self.per_principal)
            if not decision.allowed:
                return _limited(f"rate limit of {self.per_principal} exceeded for {principal.id}", decision.retry_after)
        rate = self.per_tool.get(tool)
        if rate is not None:
            decision = await self.limiter.hit(f"{principal.id}\x1f{tool}", rate)
            if not decision.allowed:
                return _limited(f"rate limit of {rate} for tool {tool!r} exceeded", decision.retry_after)
        return None


def _limited(message: str, retry_after: float) -> Refusal:
    return Refusal("rate_limited", 429, RATE_LIMITED, f"{message}; retry after {retry_after:.1f} s", retry_after=retry_after)


class RateLimitStage:
    def __init__(self, budget: CallBudget, principal_of: PrincipalSource) -> None:
        self.budget = budget
        self.principal_of = principal_of

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == TOOLS_CALL:
            tool = tool_name(ctx.params)
            if not gated(ctx, tool):
                refusal = await self.budget.refusal(self.principal_of(ctx), tool)
                if refusal is not None:
                    raise refusal.error()
        return await call_next(ctx)
