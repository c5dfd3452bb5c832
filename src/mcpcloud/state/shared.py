"""Everything replicas share through Redis, opened once per process: the one place `redis.url` turns on.

With `redis.url` set (and nothing else), this gives the server: legacy sessions any replica can
serve, request-state keys every replica shares, a subscription bus across replicas, and a Redis
readiness check. Without it the server keeps the SDK's in-process behaviour.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
from mcp.server.request_state import RequestStateSecurity
from redis.asyncio import Redis

from mcpcloud.config import Settings
from mcpcloud.errors import ConfigError
from mcpcloud.observability.metrics import record_redis_up
from mcpcloud.state.bus import Fanout, RedisSubscriptionBus
from mcpcloud.state.errors import StateUnavailable
from mcpcloud.state.redis import answering, redis_client
from mcpcloud.state.requeststate import RedisKeyRing, SharedKeyCodec, split_keys
from mcpcloud.state.sessions import RedisSessionStore

logger = logging.getLogger(__name__)


@dataclass
class SharedState:
    redis: Redis
    fanout: Fanout
    sessions: RedisSessionStore
    ring: RedisKeyRing | None

    @classmethod
    def from_settings(cls, settings: Settings, codec: SharedKeyCodec | None) -> SharedState | None:
        redis_settings = settings.redis
        if redis_settings.url is None:
            return None
        # One client: commands get the bounded timeouts; the bus's subscriber connection blocks in
        # `listen()`, which redis-py reads without a timeout, so idle periods do not break it.
        redis = redis_client(redis_settings)
        prefix = redis_settings.key_prefix
        sessions = RedisSessionStore(
            redis,
            prefix,
            settings.sessions.idle_timeout_minutes * 60,
            settings.sessions.max_per_principal,
            redis_settings.retry_after_seconds,
        )
        ring = RedisKeyRing(redis, prefix, codec) if codec is not None else None
        return cls(redis, Fanout(redis, prefix), sessions, ring)

    @property
    def bus(self) -> RedisSubscriptionBus:
        return RedisSubscriptionBus(self.fanout)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tg:
            await tg.start(self.fanout.run)
            if self.ring is not None:
                try:
                    await self.ring.load()
                except StateUnavailable as exc:  # readiness stays false until the ring loads
                    logger.warning("request-state keys not loaded at start: %s", exc)
                tg.start_soon(self.ring.keep_fresh)
            try:
                yield
            finally:
                tg.cancel_scope.cancel()
        await self.redis.aclose()

    async def ready(self) -> None:
        """The readiness check: Redis answers, and the request-state keys are loaded."""
        try:
            async with answering("readiness"):
                await self.redis.ping()
        except StateUnavailable:
            record_redis_up(False)
            raise
        record_redis_up(True)
        if self.ring is not None and not self.ring.codec.loaded:
            await self.ring.load()


def request_state_security(settings: Settings) -> tuple[RequestStateSecurity, SharedKeyCodec | None]:
    """The SDK's request-state policy: configured keys, else a ring shared in Redis, else per process.

    The codec is returned when the ring is to be loaded from Redis. The audience (the server
    identity the state is bound to) is the public URL when set: the same on every replica.
    """
    config = settings.request_state
    ttl, audience = config.ttl_seconds, settings.http.public_url
    if config.keys is not None:
        try:
            keys = RequestStateSecurity(keys=split_keys(config.keys.get_secret_value()), ttl=ttl, audience=audience)
        except ValueError as exc:  # the SDK's message names the rule (>= 32 bytes) and how to make a key
            raise ConfigError(f"request_state.keys: {exc}") from None
        return keys, None
    if settings.redis.url is not None:
        codec = SharedKeyCodec()
        return RequestStateSecurity(codec=codec, ttl=ttl, audience=audience), codec
    return RequestStateSecurity.ephemeral(ttl=ttl, audience=audience), None
