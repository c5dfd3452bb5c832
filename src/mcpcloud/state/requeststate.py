"""Keys that seal 2026-07-28 `requestState`, the same on every replica.

The SDK seals each multi-round state with AES-GCM under a key ring (first key seals, all unseal).
Its default is a random key per process, so a round answered by another replica fails. Here the
ring comes from `request_state.keys` (a mounted Secret) or, failing that, from Redis, where the
first replica to start creates it and every other one reads it.

Rotation without downtime (`mcpcloud state rotate-request-keys`): a new key is pushed to the front
of the Redis list with an activation time one refresh interval and a margin ahead. Every replica
re-reads the list each `REFRESH_SECONDS`, so all of them can unseal with the new key before any
of them seals with it; older keys keep unsealing until they fall off the end of the list.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import anyio
from mcp.server.request_state import AESGCMRequestStateCodec, InvalidRequestState, RequestStateSecurity

from mcpcloud.config import Settings
from mcpcloud.errors import ConfigError

if TYPE_CHECKING:  # redis is imported only where it is configured (stdio cold start)
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 30.0
ACTIVATION_DELAY_MS = int(2 * REFRESH_SECONDS * 1000) + 5_000
KEPT_KEYS = 3

# KEYS[1]: the ring. ARGV: a fresh entry to create the ring with when there is none.
_LOAD = """
if redis.call('LLEN', KEYS[1]) == 0 then redis.call('RPUSH', KEYS[1], ARGV[1]) end
return redis.call('LRANGE', KEYS[1], 0, -1)
"""


def split_keys(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def _entry(activate_at_ms: int) -> str:
    return f"{activate_at_ms}:{secrets.token_hex(32)}"


class SharedKeyCodec:
    """A `RequestStateCodec` whose ring can be replaced while serving (rotation)."""

    def __init__(self, keys: Sequence[str] | None = None) -> None:
        self._codec = AESGCMRequestStateCodec(list(keys)) if keys else None

    def replace(self, sealing: str, all_keys: Sequence[str]) -> None:
        self._codec = AESGCMRequestStateCodec([sealing, *[k for k in all_keys if k != sealing]])

    @property
    def loaded(self) -> bool:
        return self._codec is not None

    def seal(self, payload: bytes) -> str:
        if self._codec is None:
            raise RuntimeError("request-state keys are not loaded yet (server starting)")
        return self._codec.seal(payload)

    def unseal(self, token: str) -> bytes:
        if self._codec is None:
            raise InvalidRequestState("no keys loaded")
        return self._codec.unseal(token)


class RedisKeyRing:
    """The ring in Redis at `<prefix>requeststate:keys`: entries `activate_at_ms:hex secret`, newest first."""

    def __init__(self, redis: Redis, prefix: str, codec: SharedKeyCodec) -> None:
        self.redis = redis
        self.key = prefix + "requeststate:keys"
        self.codec = codec
        self._script = redis.register_script(_LOAD)

    async def load(self) -> None:
        from mcpcloud.state.redis import answering

        async with answering("request state", count=False):  # not a request: readiness reports it
            raw = await self._script(keys=[self.key], args=[_entry(0)])
        entries = [item.decode() if isinstance(item, bytes) else str(item) for item in raw]
        now_ms = int(time.time() * 1000)
        parsed = [(int(at), secret) for at, _, secret in (e.partition(":") for e in entries)]
        active = [secret for at, secret in parsed if at <= now_ms]
        sealing = active[0] if active else parsed[-1][1]
        self.codec.replace(sealing, [secret for _, secret in parsed])

    async def rotate(self) -> None:
        from mcpcloud.state.redis import answering

        async with answering("request state", count=False), self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(self.key, _entry(int(time.time() * 1000) + ACTIVATION_DELAY_MS))
            pipe.ltrim(self.key, 0, KEPT_KEYS - 1)
            await pipe.execute()

    async def keep_fresh(self) -> None:
        """Re-read the ring every REFRESH_SECONDS (rotation, and a Redis that restarted empty); until cancelled."""
        while True:
            await anyio.sleep(REFRESH_SECONDS)
            try:
                await self.load()
            except Exception as exc:  # noqa: BLE001 - keep the last good ring; readiness reports Redis
                logger.warning("request-state keys not refreshed: %s", exc)


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
