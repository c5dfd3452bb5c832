"""Pipeline stage: count and time every MCP request by method, tool and outcome.

It sits outside the security stages so their refusals (denied, rate limited, timeout) are
counted like any other outcome. Label values come from the server's own method and tool
lists, never straight from the client, so a caller cannot grow the number of series; the
label children for each (method, tool) are bound once and reused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp_types.methods import SPEC_CLIENT_METHODS
from prometheus_client.metrics import Counter, Gauge, Histogram

from mcpcloud.observability import metrics
from mcpcloud.packs import ToolRegistry
from mcpcloud.pipeline.outcome import DENIED, OUTCOMES, RATE_LIMITED, outcome_of_exception, outcome_of_result

OTHER = "other"
NO_TOOL = ""
UNKNOWN_TOOL = "unknown"
DENIED_REASON = "forbidden"  # the auth-failure reason under which pipeline denials are counted


@dataclass
class Series:
    """The bound metric children of one (method, tool) pair."""

    outcomes: dict[str, Counter]
    duration: Histogram
    in_flight: Gauge
    on_outcome: dict[str, Counter] = field(default_factory=dict)

    @classmethod
    def bind(cls, method: str, tool: str) -> Series:
        on_outcome = {
            RATE_LIMITED: metrics.RATE_LIMITED.labels(tool),
            DENIED: metrics.AUTH_FAILURES.labels(DENIED_REASON),
        }
        return cls(
            outcomes={outcome: metrics.MCP_REQUESTS.labels(method, tool, outcome) for outcome in OUTCOMES},
            duration=metrics.MCP_DURATION.labels(method, tool),
            in_flight=metrics.MCP_IN_FLIGHT.labels(method),
            on_outcome=on_outcome,
        )

    def record(self, outcome: str, seconds: float) -> None:
        self.outcomes[outcome].inc()
        self.duration.observe(seconds)
        extra = self.on_outcome.get(outcome)
        if extra is not None:
            extra.inc()


class MetricsStage:
    def __init__(self, registry: ToolRegistry) -> None:
        self._registry = registry
        self._series: dict[tuple[str, str], Series] = {}

    def labels(self, method: str, params: Any) -> tuple[str, str]:
        if method not in SPEC_CLIENT_METHODS:
            return OTHER, NO_TOOL
        if method != "tools/call":
            return method, NO_TOOL
        name = params.get("name") if params else None
        if isinstance(name, str) and self._registry.get(name) is not None:
            return method, name
        return method, UNKNOWN_TOOL

    def series_for(self, method: str, params: Any) -> Series:
        key = self.labels(method, params)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = Series.bind(*key)
        return series

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.request_id is None:  # notifications have no outcome to count
            return await call_next(ctx)
        series = self.series_for(ctx.method, ctx.params)
        series.in_flight.inc()
        started = perf_counter()
        try:
            result = await call_next(ctx)
        except Exception as exc:
            series.record(outcome_of_exception(exc), perf_counter() - started)
            raise
        finally:
            series.in_flight.dec()
        series.record(outcome_of_result(result), perf_counter() - started)
        return result
