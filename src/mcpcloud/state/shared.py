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
from typing import TYPE_CHECKING

import anyio

from mcpcloud.config import Settings
from mcpcloud.state.bus import Fanout, RedisSubscriptionBus
from mcpcloud.state.errors import StateUnavailable
from mcpcloud.state.redis import answering, redis_client
from mcpcloud.state.requeststate import RedisKeyRing, SharedKeyCodec
from mcpcloud.state.sessions import RedisSessionStore

if TYPE_CHECKING:  # redis loads only where it is configured
    from redis.asyncio import Redis

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
        async with answering("readiness", count=False):  # a probe, not a refused request
            await self.redis.ping()
        if self.ring is not None and not self.ring.codec.loaded:
            await self.ring.load()
