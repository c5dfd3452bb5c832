"""The per-request MCP series: requests by method, tool and outcome, latency, in flight.

These are touched on every request, so in a single process they are plain Python numbers
updated without locks (every MCP request is handled on the one event-loop thread) and
turned into Prometheus families only when scraped: prometheus-client's own metric objects
take a lock per update, which measured ~1 µs each on our machines, five per request.
With `PROMETHEUS_MULTIPROC_DIR` set the values must live in prometheus-client's shared
files, so there the series are prometheus-client metrics.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import Protocol

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from mcpcloud.core.outcomes import DENIED, OUTCOMES, RATE_LIMITED
from mcpcloud.observability import metrics

REQUESTS_NAME = "mcpcloud_mcp_requests"
REQUESTS_HELP = "MCP requests by method, tool and outcome (ok, tool_error, protocol_error, invalid, denied, rate_limited, timeout, unavailable)."
DURATION_NAME = "mcpcloud_mcp_request_duration_seconds"
DURATION_HELP = "Time from receiving an MCP request to its result or error, by method and tool."
IN_FLIGHT_NAME = "mcpcloud_mcp_requests_in_flight"
IN_FLIGHT_HELP = "MCP requests being handled now."
DENIED_REASON = "forbidden"  # the auth-failure reason under which pipeline denials are counted
_BOUNDS = metrics.LATENCY_BUCKETS
_BUCKET_LABELS = [*(repr(float(b)) for b in _BOUNDS), "+Inf"]


class McpSeries(Protocol):
    def enter(self) -> None: ...
    def leave(self) -> None: ...
    def record(self, outcome: str, seconds: float) -> None: ...


def _refusal_counters(tool: str) -> dict[str, Counter]:
    """Refusals also feed their own counters; rare, so ordinary prometheus-client children."""
    return {RATE_LIMITED: metrics.RATE_LIMITED.labels(tool), DENIED: metrics.AUTH_FAILURES.labels(DENIED_REASON)}


class LocalSeries:
    """One (method, tool) pair's numbers in this process."""

    __slots__ = ("method", "tool", "outcomes", "buckets", "seconds", "in_flight", "refusals")

    def __init__(self, method: str, tool: str) -> None:
        self.method = method
        self.tool = tool
        self.outcomes = dict.fromkeys(OUTCOMES, 0)
        self.buckets = [0] * (len(_BOUNDS) + 1)  # per bucket, not cumulative; the last is +Inf
        self.seconds = 0.0
        self.in_flight = 0
        self.refusals = _refusal_counters(tool)

    def enter(self) -> None:
        self.in_flight += 1

    def leave(self) -> None:
        self.in_flight -= 1

    def record(self, outcome: str, seconds: float) -> None:
        self.outcomes[outcome] += 1
        self.buckets[bisect_left(_BOUNDS, seconds)] += 1
        self.seconds += seconds
        refusal = self.refusals.get(outcome)
        if refusal is not None:
            refusal.inc()


class LocalCollector(Collector):
    def __init__(self) -> None:
        self.series: list[LocalSeries] = []

    def collect(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily | GaugeMetricFamily]:
        requests = CounterMetricFamily(REQUESTS_NAME, REQUESTS_HELP, labels=("method", "tool", "outcome"))
        duration = HistogramMetricFamily(DURATION_NAME, DURATION_HELP, labels=("method", "tool"))
        in_flight: dict[str, int] = {}
        for series in list(self.series):
            for outcome, count in series.outcomes.items():
                requests.add_metric((series.method, series.tool, outcome), count)
            cumulative, buckets = 0, []
            for label, count in zip(_BUCKET_LABELS, series.buckets, strict=True):
                cumulative += count
                buckets.append((label, cumulative))
            duration.add_metric((series.method, series.tool), buckets, series.seconds)
            in_flight[series.method] = in_flight.get(series.method, 0) + series.in_flight
        gauge = GaugeMetricFamily(IN_FLIGHT_NAME, IN_FLIGHT_HELP, labels=("method",))
        for method, count in in_flight.items():
            gauge.add_metric((method,), count)
        yield from (requests, duration, gauge)

    def describe(self) -> list[object]:
        return []


class SharedSeries:
    """One (method, tool) pair as prometheus-client children (multiprocess files)."""

    __slots__ = ("outcomes", "duration", "in_flight", "refusals")

    def __init__(self, method: str, tool: str) -> None:
        assert _shared is not None
        requests, histogram, gauge = _shared
        self.outcomes = {outcome: requests.labels(method, tool, outcome) for outcome in OUTCOMES}
        self.duration = histogram.labels(method, tool)
        self.in_flight = gauge.labels(method)
        self.refusals = _refusal_counters(tool)

    def enter(self) -> None:
        self.in_flight.inc()

    def leave(self) -> None:
        self.in_flight.dec()

    def record(self, outcome: str, seconds: float) -> None:
        self.outcomes[outcome].inc()
        self.duration.observe(seconds)
        refusal = self.refusals.get(outcome)
        if refusal is not None:
            refusal.inc()


_local: LocalCollector | None = None
_shared: tuple[Counter, Histogram, Gauge] | None = None
if metrics.multiprocess_dir() is None:
    _local = LocalCollector()
    REGISTRY.register(_local)
else:
    _shared = (
        Counter(REQUESTS_NAME, REQUESTS_HELP, ("method", "tool", "outcome")),
        Histogram(DURATION_NAME, DURATION_HELP, ("method", "tool"), buckets=_BOUNDS),
        Gauge(IN_FLIGHT_NAME, IN_FLIGHT_HELP, ("method",), multiprocess_mode="livesum"),
    )


_bound: dict[tuple[str, str], McpSeries] = {}


def bind_series(method: str, tool: str) -> McpSeries:
    """The series of (method, tool), created on first use and shared by every server in the process."""
    series = _bound.get((method, tool))
    if series is None:
        if _local is None:
            series = SharedSeries(method, tool)
        else:
            series = LocalSeries(method, tool)
            _local.series.append(series)
        _bound[(method, tool)] = series
    return series
