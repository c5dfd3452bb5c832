"""The MCP message pipeline: policies that hold on every transport.

Each stage is an SDK `ServerMiddleware` (`async (ctx, call_next) -> result`) in a module of
its own. `build_pipeline` returns only the stages the configuration enables, outermost
first, so a request pays for nothing that is switched off.
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import ServerMiddleware

from mcpcloud.config import Settings
from mcpcloud.observability.tracing import tracing_enabled
from mcpcloud.packs import ToolRegistry
from mcpcloud.pipeline.cache import build_cache_stage
from mcpcloud.pipeline.errors import name_caller_mistakes
from mcpcloud.pipeline.log_context import LogContext
from mcpcloud.pipeline.metrics import MetricsStage
from mcpcloud.pipeline.policies import Policies
from mcpcloud.pipeline.tracing import SpanAttributes, ToolSpan
from mcpcloud.pipeline.unicode import refuse_invalid_unicode


def build_pipeline(
    settings: Settings, registry: ToolRegistry, policies: Policies | None = None
) -> list[ServerMiddleware[Any]]:
    """metrics ─ log context ─ span attributes ─ errors ─ security stages ─ cache ─ tool span, each only when enabled."""
    tracing = tracing_enabled(settings.observability.tracing)
    stages: list[ServerMiddleware[Any]] = []
    # Observability first, so it sees every refusal of the stages after it.
    if settings.observability.metrics.enabled and settings.transport == "http":  # stdio has no /metrics
        stages.append(MetricsStage(registry))
    stages.append(LogContext())
    if tracing:
        stages.append(SpanAttributes())
    stages.append(refuse_invalid_unicode)  # before any stage encodes the parameters
    stages.append(name_caller_mistakes)
    stages.extend(security_stages(policies or Policies.compile(settings, registry)))
    # After the security stages, so a cached result is served only to a caller allowed to call the tool.
    cache = build_cache_stage(settings.cache, registry)
    if cache is not None:
        stages.append(cache)
    # Innermost: the tool's own span.
    if tracing:
        stages.append(ToolSpan())
    return stages


def security_stages(policies: Policies) -> list[ServerMiddleware[Any]]:
    """audit ─ authorize ─ argument size ─ rate limit ─ concurrency ─ timeout, each only when enabled."""
    from mcpcloud.pipeline.argsize import ArgumentSizeStage
    from mcpcloud.pipeline.audit import AuditStage
    from mcpcloud.pipeline.authorize import AuthorizeStage
    from mcpcloud.pipeline.concurrency import ConcurrencyStage
    from mcpcloud.pipeline.ratelimit import RateLimitStage

    source = policies.principal_of
    stages: list[ServerMiddleware[Any]] = []
    if policies.audit is not None:
        stages.append(AuditStage(policies.audit, source))
    if policies.access is not None:
        stages.append(AuthorizeStage(policies.access, source))
    if policies.max_argument_bytes:
        stages.append(ArgumentSizeStage(policies.max_argument_bytes))
    if policies.budget is not None:
        stages.append(RateLimitStage(policies.budget, source))
    if policies.concurrency is not None:
        stages.append(ConcurrencyStage(policies.concurrency, source))
    if policies.timeout is not None:
        stages.append(policies.timeout)
    return stages
