"""Pipeline stage: count and time every MCP request by method, tool and outcome.

It sits outside the security stages so their refusals (denied, rate limited, timeout) are
counted like any other outcome. Label values come from the server's own method and tool
lists, never straight from the client, so a caller cannot grow the number of series; the
series of each (method, tool) is bound once and reused.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp_types.methods import SPEC_CLIENT_METHODS

from mcpcloud.core.calls import TOOLS_CALL, tool_name
from mcpcloud.core.outcomes import outcome_of_exception, outcome_of_result
from mcpcloud.core.registry import ToolRegistry
from mcpcloud.observability.mcp_metrics import McpSeries, bind_series

OTHER = "other"
NO_TOOL = ""
UNKNOWN_TOOL = "unknown"


def tool_label(registry: ToolRegistry, tool: str | None) -> str:
    """The `tool` label of a call: its name when a pack offers it, else one shared `unknown`."""
    return tool if tool is not None and registry.get(tool) is not None else UNKNOWN_TOOL


class MetricsStage:
    def __init__(self, registry: ToolRegistry) -> None:
        self._registry = registry

    def labels(self, method: str, params: Any) -> tuple[str, str]:
        if method not in SPEC_CLIENT_METHODS:
            return OTHER, NO_TOOL
        if method != TOOLS_CALL:
            return method, NO_TOOL
        return method, tool_label(self._registry, tool_name(method, params))

    def series_for(self, method: str, params: Any) -> McpSeries:
        return bind_series(*self.labels(method, params))

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.request_id is None:  # notifications have no outcome to count
            return await call_next(ctx)
        series = self.series_for(ctx.method, ctx.params)
        series.enter()
        started = perf_counter()
        try:
            result = await call_next(ctx)
        except Exception as exc:
            series.record(outcome_of_exception(exc), perf_counter() - started)
            raise
        finally:
            series.leave()
        series.record(outcome_of_result(result), perf_counter() - started)
        return result
