"""The compiled engine: one list of policies, decided once per call, recorded once.

`Engine.compile` builds the list from the settings at startup (only what is enabled, in the
order authorize ─ argument size ─ rate limit ─ concurrency, then the wrappers timeout ─ cache).
Whoever sees a call first (the HTTP front, the fast path, or the MCP pipeline stage on stdio)
calls `decide`; the `Decision` travels with the call, and the one audit record is written
from it by `settle`. A shared-state fault while deciding (`StateUnavailable`) is a refusal
like any other: outcome `unavailable`, HTTP 503 with `Retry-After`, a JSON-RPC error naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from time import perf_counter
from typing import Any

from mcp.shared.exceptions import MCPError

from mcpcloud.config import Settings
from mcpcloud.core.calls import Call
from mcpcloud.core.outcomes import PROTOCOL_ERROR, Refusal, RefusedError, outcome_of_result, unavailable
from mcpcloud.core.principal import Identity
from mcpcloud.core.registry import ToolRegistry
from mcpcloud.engine.argsize import ArgumentSize
from mcpcloud.engine.authorize import Access
from mcpcloud.engine.cache import build_result_cache
from mcpcloud.engine.concurrency import ConcurrencyCap
from mcpcloud.engine.policy import Policy, Proceed, overrides
from mcpcloud.engine.ratelimit import CallBudget
from mcpcloud.engine.timeout import ToolTimeout
from mcpcloud.engine.unicode import ValidUnicode
from mcpcloud.observability.audit import AuditLog
from mcpcloud.state.errors import StateUnavailable
from mcpcloud.state.ratelimit import RateLimiter

DECISION_KEY = "mcpcloud.decision"
"""Where the HTTP front leaves its `Decision` in the ASGI scope, for the pipeline stage to run it."""


@dataclass(slots=True)
class Decision:
    """What the engine decided about one call; `refusal` is None when the call may run."""

    call: Call
    refusal: Refusal | None
    started: float = field(default_factory=perf_counter)
    held: tuple[Policy, ...] = ()
    """Policies holding something for this call (a concurrency slot) until `Engine.release`."""
    settled: bool = False


def refusal_of_state_fault(exc: StateUnavailable) -> Refusal:
    return unavailable(f"{exc}; retry after {exc.retry_after} s", exc.cause, exc.retry_after)


class Engine:
    def __init__(
        self,
        identity: Identity,
        policies: list[Policy],
        registry: ToolRegistry,
        audit: AuditLog | None = None,
        access: Access | None = None,
    ) -> None:
        self.identity = identity
        self.policies = tuple(policies)
        self.registry = registry
        self.audit = audit
        self.access = access
        self._admitting = tuple(p for p in self.policies if overrides(p, "admit"))
        self._holding = frozenset(p for p in self.policies if overrides(p, "release"))
        self._wrapping = tuple(reversed([p for p in self.policies if overrides(p, "around")]))

    @classmethod
    def compile(cls, settings: Settings, registry: ToolRegistry, identity: Identity | None = None) -> Engine:
        auth, limits = settings.auth, settings.limits
        identity = identity or Identity.from_settings(auth.local_principal, auth.local_scopes, auth.enabled)
        # Authorization matters once callers differ: authentication on, a restricted stdio
        # principal, or explicit rules. With none of these every caller may call everything.
        restricted = auth.enabled or "*" not in auth.local_scopes or bool(auth.principals) or bool(auth.tool_scopes)
        access = Access.compile(auth, registry) if restricted else None
        candidates: list[Policy | None] = [
            ValidUnicode(),  # first: every later policy may encode the arguments
            access,
            ArgumentSize(limits.max_argument_bytes) if limits.max_argument_bytes else None,
            CallBudget.compile(limits, registry, _limiter(settings)) if limits.rate or limits.tool_rates else None,
            ConcurrencyCap(limits.concurrency) if limits.concurrency else None,
            ToolTimeout.compile(limits, registry),
            # After the admitting policies, so a cached result is served only to a caller allowed the call.
            build_result_cache(settings.cache, registry),
        ]
        audit = AuditLog(settings.audit) if settings.audit.enabled else None
        return cls(identity, [p for p in candidates if p is not None], registry, audit, access)

    @property
    def idle(self) -> bool:
        """Nothing to decide and nothing to record: the faces may skip the engine entirely."""
        return not self.policies and self.audit is None

    def policy(self, name: str) -> Policy | None:
        return next((p for p in self.policies if p.name == name), None)

    async def decide(self, call: Call) -> Decision:
        """Run every admitting policy once; on a refusal, give back what earlier ones took."""
        held: list[Policy] = []
        refusal: Refusal | None = None
        try:
            for policy in self._admitting:
                refusal = await policy.admit(call)
                if refusal is not None:
                    break
                if policy in self._holding:
                    held.append(policy)
        except StateUnavailable as exc:
            refusal = refusal_of_state_fault(exc)
        decision = Decision(call, refusal, held=tuple(held))
        if refusal is not None:
            self.release(decision)
        return decision

    def release(self, decision: Decision) -> None:
        held, decision.held = decision.held, ()
        for policy in reversed(held):
            policy.release(decision.call)

    async def run(self, decision: Decision, proceed: Proceed) -> Any:
        """Run an admitted call through the wrappers (timeout, cache), outermost first."""
        for policy in self._wrapping:
            proceed = partial(policy.around, decision.call, proceed)
        return await proceed()

    async def execute(self, decision: Decision, proceed: Proceed) -> Any:
        """Refuse (raise the refusal's `RefusedError`) or run the admitted call; settle its audit record either way."""
        refusal = decision.refusal
        if refusal is not None:
            self.settle(decision, refusal.outcome, refusal.message)
            raise refusal.error()
        try:
            result = await self.run(decision, proceed)
        except RefusedError as exc:
            self.settle(decision, exc.refusal.outcome, exc.refusal.message)
            raise
        except StateUnavailable as exc:  # a tool or wrapper whose shared state failed mid-call
            fault = refusal_of_state_fault(exc)
            self.settle(decision, fault.outcome, fault.message)
            raise fault.error() from exc
        except MCPError as exc:
            self.settle(decision, PROTOCOL_ERROR, exc.message)
            raise
        except BaseException:  # a crash or a cancellation still leaves its record
            self.settle(decision, PROTOCOL_ERROR)
            raise
        self.settle(decision, outcome_of_result(result))
        return result

    def settle(self, decision: Decision, outcome: str, detail: str | None = None) -> None:
        """Write the call's one audit record (the first settle wins)."""
        if decision.settled:
            return
        decision.settled = True
        if self.audit is not None:
            duration_ms = (perf_counter() - decision.started) * 1000
            self.audit.record_call(decision.call, outcome, duration_ms=duration_ms, detail=detail)

    async def aclose(self) -> None:
        """Close what the policies opened (the Redis connection of a shared rate limiter or cache)."""
        for policy in self.policies:
            closer = getattr(policy, "aclose", None)
            if closer is not None:
                await closer()


def _limiter(settings: Settings) -> RateLimiter:
    if settings.limits.backend == "redis":
        from mcpcloud.state.ratelimit import RedisRateLimiter

        return RedisRateLimiter.from_settings(settings)  # bounded timeouts, retry on stale connections, fail_open
    from mcpcloud.state.ratelimit import MemoryRateLimiter

    return MemoryRateLimiter()
