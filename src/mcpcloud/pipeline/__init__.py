"""The MCP message pipeline: the SDK `ServerMiddleware` stages every transport runs.

Each stage (`async (ctx, call_next) -> result`) is a module of its own. `build_pipeline` returns
only the stages the configuration enables, outermost first, so a request pays for nothing that
is switched off; the observability stages are imported only when their feature is on (stdio
cold start does not load prometheus-client or OpenTelemetry).
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import ServerMiddleware

from mcpcloud.config import Settings
from mcpcloud.engine.engine import Engine
from mcpcloud.pipeline.engine_stage import EngineStage
from mcpcloud.pipeline.errors import name_caller_mistakes
from mcpcloud.pipeline.log_context import LogContext


def build_pipeline(settings: Settings, engine: Engine, tracing: bool) -> list[ServerMiddleware[Any]]:
    """metrics ─ log context ─ span attributes ─ errors ─ list visibility ─ engine ─ tool span, each only when enabled."""
    stages: list[ServerMiddleware[Any]] = []
    # Observability first, so it sees every refusal of the stages after it.
    if settings.observability.metrics.enabled and settings.transport == "http":  # stdio has no /metrics
        from mcpcloud.pipeline.metrics import MetricsStage

        stages.append(MetricsStage(engine.registry))
    stages.append(LogContext(engine.identity))
    if tracing:
        from mcpcloud.pipeline.tracing import SpanAttributes

        stages.append(SpanAttributes(engine.identity))
    stages.append(name_caller_mistakes)
    if engine.access is not None:
        from mcpcloud.pipeline.visibility import ListVisibility

        stages.append(ListVisibility(engine.access, engine.identity))
    if not engine.idle:
        stages.append(EngineStage(engine))
    # Innermost: the tool's own span.
    if tracing:
        from mcpcloud.pipeline.tracing import ToolSpan

        stages.append(ToolSpan())
    return stages
