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
from mcpcloud.pipeline.errors import name_caller_mistakes
from mcpcloud.pipeline.log_context import LogContext
from mcpcloud.pipeline.metrics import MetricsStage
from mcpcloud.pipeline.tracing import SpanAttributes, ToolSpan


def build_pipeline(settings: Settings, registry: ToolRegistry) -> list[ServerMiddleware[Any]]:
    tracing = tracing_enabled(settings.observability.tracing)
    stages: list[ServerMiddleware[Any]] = []
    # Observability first, so it sees every refusal of the stages after it.
    if settings.observability.metrics.enabled and settings.transport == "http":  # stdio has no /metrics
        stages.append(MetricsStage(registry))
    stages.append(LogContext())
    if tracing:
        stages.append(SpanAttributes())
    stages.append(name_caller_mistakes)
    # Innermost: the tool's own span.
    if tracing:
        stages.append(ToolSpan())
    return stages
