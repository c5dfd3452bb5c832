"""The one way mcpcloud opens Redis: a redis-py asyncio client built from `[redis]`."""

from __future__ import annotations

from redis.asyncio import Redis

from mcpcloud.config import RedisSettings
from mcpcloud.errors import ConfigError


def redis_client(settings: RedisSettings) -> Redis:
    """A client for `settings.url`; connections open lazily, in the event loop that uses them."""
    if settings.url is None:
        raise ConfigError("redis.url: not set")
    return Redis.from_url(settings.url.get_secret_value(), decode_responses=False, health_check_interval=30)
