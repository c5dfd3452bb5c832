"""Every tool-call policy, compiled once at startup from the settings and the tool registry.

The MCP pipeline stages and the HTTP call gate share these objects, so a budget spent over
HTTP is the same budget the pipeline would have checked, and nothing is re-validated per call.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcpcloud.config import Settings
from mcpcloud.observability.audit import AuditLog
from mcpcloud.packs import ToolRegistry
from mcpcloud.pipeline.authorize import ToolAccess
from mcpcloud.pipeline.calls import PrincipalSource
from mcpcloud.pipeline.concurrency import ConcurrencyCap
from mcpcloud.pipeline.ratelimit import CallBudget
from mcpcloud.pipeline.timeout import TimeoutStage
from mcpcloud.security.principal import ANONYMOUS, NOBODY, local_principal
from mcpcloud.state.ratelimit import MemoryRateLimiter, RateLimiter


@dataclass
class Policies:
    principal_of: PrincipalSource
    access: ToolAccess | None
    budget: CallBudget | None
    concurrency: ConcurrencyCap | None
    timeout: TimeoutStage | None
    max_argument_bytes: int
    audit: AuditLog | None
    known_tools: frozenset[str] = frozenset()

    async def aclose(self) -> None:
        """Close what the policies opened (the Redis connection of a shared rate limiter)."""
        closer = getattr(self.budget.limiter, "aclose", None) if self.budget is not None else None
        if closer is not None:
            await closer()

    @classmethod
    def compile(cls, settings: Settings, registry: ToolRegistry) -> Policies:
        auth, limits = settings.auth, settings.limits
        local = local_principal(auth.local_principal, auth.local_scopes)
        principal_of = PrincipalSource(local=local, http_default=NOBODY if auth.enabled else ANONYMOUS)
        # Authorization matters once callers differ: authentication on, a restricted stdio
        # principal, or explicit rules. With none of these every caller may call everything.
        restricted = auth.enabled or "*" not in auth.local_scopes or bool(auth.principals) or bool(auth.tool_scopes)
        return cls(
            principal_of=principal_of,
            access=ToolAccess.compile(auth, registry) if restricted else None,
            budget=CallBudget.compile(limits, registry, _limiter(settings)) if limits.rate or limits.tool_rates else None,
            concurrency=ConcurrencyCap(limits.concurrency) if limits.concurrency else None,
            timeout=TimeoutStage.compile(limits, registry) if limits.tool_timeout_seconds or limits.tool_timeouts else None,
            max_argument_bytes=limits.max_argument_bytes,
            audit=AuditLog(settings.audit) if settings.audit.enabled else None,
            known_tools=frozenset(registry.tools),
        )


def _limiter(settings: Settings) -> RateLimiter:
    if settings.limits.backend == "redis":
        from mcpcloud.state.ratelimit import RedisRateLimiter

        return RedisRateLimiter.from_settings(settings)
    return MemoryRateLimiter()
