"""The engine inside the SDK's message pipeline: where stdio (and an in-process client) calls are decided.

On HTTP the front (`mcpcloud.front`) already decided the call before the SDK saw it and left its
`Decision` on the request's ASGI scope; this stage then runs that same decision (wrappers, audit
record) instead of deciding again. A call that arrives without one (stdio, an in-process
client, a JSON-RPC batch the front does not split) is decided here, by the same compiled list.
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

from mcpcloud.core.calls import KIND_OF_METHOD, Call, target_of
from mcpcloud.engine.engine import DECISION_KEY, Decision, Engine


class EngineStage:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method not in KIND_OF_METHOD:  # lists, the handshake, pings: nothing to decide
            return await call_next(ctx)
        decision = decided_in_front(ctx)
        if decision is not None:
            return await self.engine.execute(decision, lambda: call_next(ctx))
        call = call_of(ctx, self.engine)
        if call is None:
            return await call_next(ctx)
        decision = await self.engine.decide(call)
        try:
            return await self.engine.execute(decision, lambda: call_next(ctx))
        finally:
            self.engine.release(decision)


def decided_in_front(ctx: ServerRequestContext[Any, Any]) -> Decision | None:
    """The front's decision for exactly this call, if the front made one."""
    request = ctx.request
    decision = request.scope.get(DECISION_KEY) if request is not None else None
    if decision is None or decision.call.method != ctx.method:
        return None
    return decision if target_of(ctx.method, ctx.params) == (decision.call.kind, decision.call.name) else None


def call_of(ctx: ServerRequestContext[Any, Any], engine: Engine) -> Call | None:
    request = ctx.request
    principal = engine.identity.of_request(request)
    if request is None:
        return Call.parse(ctx.method, ctx.params, principal, ctx.protocol_version, ctx.request_id)
    headers = request.headers
    return Call.parse(
        ctx.method,
        ctx.params,
        principal,
        ctx.protocol_version,
        headers.get("x-request-id", ctx.request_id),
        headers.get("traceparent"),
    )
