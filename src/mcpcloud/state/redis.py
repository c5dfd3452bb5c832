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

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import BusyLoadingError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from mcpcloud.config import RedisSettings
from mcpcloud.errors import ConfigError
from mcpcloud.state.errors import StateUnavailable


def redis_client(settings: RedisSettings) -> Redis:
    """A client for `settings.url`; connections open lazily, in the event loop that uses them."""
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
    if isinstance(exc, RedisTimeoutError):
        return "did not answer in time"
    if isinstance(exc, BusyLoadingError):
        return "is loading its data after a restart"
    if isinstance(exc, RedisConnectionError):
        return "cannot be reached"
    return f"failed ({type(exc).__name__})"


def unavailable(what: str, exc: BaseException, retry_after: int = 5) -> StateUnavailable:
    return StateUnavailable(what, describe(exc), retry_after)


@asynccontextmanager
async def answering(what: str, retry_after: int = 5) -> AsyncIterator[None]:
    """Run Redis calls for feature `what`; any Redis failure leaves as `StateUnavailable`."""
    try:
        yield
    except (RedisError, OSError) as exc:
        raise unavailable(what, exc, retry_after) from exc
