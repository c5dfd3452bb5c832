"""A cap on the tool calls one principal may have in flight at once (per process)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

from mcpcloud.pipeline.calls import TOOLS_CALL, PrincipalSource, gated, tool_name
from mcpcloud.pipeline.refusal import RATE_LIMITED, Refusal
from mcpcloud.security.principal import Principal


class ConcurrencyCap:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._in_flight: dict[str, int] = {}

    @asynccontextmanager
    async def slot(self, principal: Principal) -> AsyncIterator[Refusal | None]:
        """Yields None while holding a slot, or the refusal when the principal has none left."""
        count = self._in_flight.get(principal.id, 0)
        if count >= self.limit:
            yield Refusal(
                "rate_limited", 429, RATE_LIMITED,
                f"{principal.id} already has {self.limit} tool calls in flight (the limit)", retry_after=1.0,
            )
            return
        self._in_flight[principal.id] = count + 1
        try:
            yield None
        finally:
            remaining = self._in_flight[principal.id] - 1
            if remaining:
                self._in_flight[principal.id] = remaining
            else:
                del self._in_flight[principal.id]


class ConcurrencyStage:
    def __init__(self, cap: ConcurrencyCap, principal_of: PrincipalSource) -> None:
        self.cap = cap
        self.principal_of = principal_of

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != TOOLS_CALL or gated(ctx, tool_name(ctx.params)):
            return await call_next(ctx)
        async with self.cap.slot(self.principal_of(ctx)) as refusal:
            if refusal is not None:
                raise refusal.error()
            return await call_next(ctx)
