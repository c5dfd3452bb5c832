"""The one way mcpcloud opens Redis, and the one way a Redis failure becomes `StateUnavailable`.

Every client gets bounded timeouts (`redis.timeout_seconds`, so a frozen Redis costs a request
at most about that long, never the 5 s+ of defaults) and one retry with backoff on connection
errors only: after a Redis restart each pooled connection is stale and fails once, and the retry
reconnects instead of answering 500 until the pool has churned. Timeouts are not retried (a
frozen server would only double the wait).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from mcpcloud.config import RedisSettings
from mcpcloud.errors import ConfigError
from mcpcloud.state.errors import StateUnavailable, report_fault

if TYPE_CHECKING:  # redis (and the OpenTelemetry SDK it pulls in) loads only where Redis is configured
    from redis.asyncio import Redis


def redis_client(settings: RedisSettings) -> Redis:
    """A client for `settings.url`; connections open lazily, in the event loop that uses them."""
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialWithJitterBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError

    if settings.url is None:
        raise ConfigError("redis.url: not set")
    timeout = settings.timeout_seconds
    return Redis.from_url(
        settings.url.get_secret_value(),
        decode_responses=False,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(
            ExponentialWithJitterBackoff(base=0.02, cap=0.2), retries=1, supported_errors=(RedisConnectionError,)
        ),
        health_check_interval=30,
    )


def describe(exc: BaseException) -> str:
    """A short cause safe to show a caller: never the URL, host or password."""
    from redis.exceptions import BusyLoadingError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    if isinstance(exc, RedisTimeoutError):
        return "did not answer in time"
    if isinstance(exc, BusyLoadingError):
        return "is loading its data after a restart"
    if isinstance(exc, RedisConnectionError):
        return "cannot be reached"
    return f"failed ({type(exc).__name__})"


@asynccontextmanager
async def answering(what: str, retry_after: int = 5, *, count: bool = True) -> AsyncIterator[None]:
    """Run Redis calls for feature `what`; any Redis failure leaves as `StateUnavailable`.

    Counted here, where it is raised (`mcpcloud_state_unavailable_total{action="refused"}`), because
    several layers answer it (authentication, the engine, the HTTP front) and each fault is one
    refusal; `count=False` for callers that are not serving a request (readiness, key refresh) or
    that fail open and count that themselves.
    """
    from redis.exceptions import RedisError

    try:
        yield
    except (RedisError, OSError) as exc:
        if count:
            report_fault(what, "refused")
        raise StateUnavailable(what, describe(exc), retry_after) from exc
