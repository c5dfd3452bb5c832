"""The Prometheus metrics mcpcloud exports, and their exposition (MCP request series: `mcp_metrics`).

Several worker processes: set `PROMETHEUS_MULTIPROC_DIR` to an empty, writable directory
(the same for every process of one pod) before start. prometheus-client then keeps each
process's values in files there and `/metrics` of any process reports the sum; in-flight
and readiness gauges count live processes only (see `mark_process_dead`).
"""

from __future__ import annotations

import os
import platform
from importlib.metadata import version

from mcp_types.version import SUPPORTED_PROTOCOL_VERSIONS
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

from mcpcloud import __version__

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# `*_created` series double the series count and no dashboard or alert here uses them.
disable_created_metrics()

# From 100 µs (an in-memory tool) to a minute (a slow query or a remote API); each step
# is ~2.5x so percentiles interpolate within a reasonable error at every scale.
LATENCY_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 60.0,
)  # fmt: skip

RATE_LIMITED = Counter("mcpcloud_rate_limit_rejections", "Requests refused by a rate limit, by tool.", ("tool",))
AUTH_FAILURES = Counter(
    "mcpcloud_auth_failures",
    "Refused credentials or permissions, by reason (e.g. missing, invalid, expired, forbidden).",
    ("reason",),
)
PACK_READY = Gauge(
    "mcpcloud_pack_ready",
    "1 when the pack's dependencies answer its readiness check, else 0.",
    ("pack",),
    multiprocess_mode="livemin",
)
READY = Gauge(
    "mcpcloud_ready",
    "1 when /readyz answers 200 (started, not draining, all packs ready).",
    multiprocess_mode="livemin",
)
BUILD_INFO = Gauge(
    "mcpcloud_build_info",
    "Always 1; the labels say what is running.",
    ("version", "sdk_version", "protocol_versions", "python_version"),
    multiprocess_mode="max",
)
HTTP_REQUESTS = Counter(
    "mcpcloud_http_requests", "HTTP requests to routes other than the MCP endpoint.", ("route", "method", "status")
)
HTTP_IN_FLIGHT = Gauge(
    "mcpcloud_http_requests_in_flight",
    "HTTP requests (MCP endpoint included, probes and /metrics not) being handled now; what a drain waits for.",
    multiprocess_mode="livesum",
)
HTTP_DURATION = Histogram(
    "mcpcloud_http_request_duration_seconds",
    "Latency of HTTP requests to routes other than the MCP endpoint.",
    ("route", "method"),
    buckets=LATENCY_BUCKETS,
)

STATE_UNAVAILABLE = Counter(
    "mcpcloud_state_unavailable",
    "Requests that met shared state (Redis) unable to answer, by feature and what was done "
    "(refused: 503 + Retry-After; failed_open: served without it, limits.fail_open).",
    ("feature", "action"),
)
REDIS_UP = Gauge(
    "mcpcloud_redis_up",
    "1 when the last readiness check reached Redis, else 0 (absent without redis.url).",
    multiprocess_mode="livemin",
)

BUILD_INFO.labels(__version__, version("mcp"), ",".join(SUPPORTED_PROTOCOL_VERSIONS), platform.python_version()).set(1)


def record_auth_failure(reason: str) -> None:
    """For the authentication layer: count one refused credential. Keep `reason` to a small fixed set."""
    AUTH_FAILURES.labels(reason).inc()


def record_state_unavailable(feature: str, action: str = "refused") -> None:
    STATE_UNAVAILABLE.labels(feature, action).inc()


def record_readiness(ready: bool, packs: dict[str, bool]) -> None:
    READY.set(1 if ready else 0)
    if "redis" in packs:  # the shared-state check (redis.url set)
        REDIS_UP.set(1 if packs["redis"] else 0)
    for pack, pack_ready in packs.items():
        PACK_READY.labels(pack).set(1 if pack_ready else 0)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def exposition() -> tuple[bytes, str]:
    """The current metrics in the Prometheus text format, summed over processes when multiprocess."""
    if multiprocess_dir() is None:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry), CONTENT_TYPE_LATEST


def mark_process_dead() -> None:
    """At exit: drop this process's live gauges from the multiprocess sum."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(os.getpid())
