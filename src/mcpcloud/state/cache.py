"""Result-cache storage: an in-process LRU (the default) and Redis (shared by replicas).

Both store opaque bytes under string keys with a time to live. Keys are laid out as
`<prefix><tool>:<digest>` so one tool's entries can be cleared without touching others.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis


class CacheBackend(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None: ...

    async def clear(self, prefix: str) -> int:
        """Delete every entry whose key starts with `prefix`; return how many were deleted."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class MemoryCache:
    """Least-recently-used entries, bounded both by count and by total bytes of values."""

    def __init__(
        self, max_entries: int = 10_000, max_bytes: int = 64 * 1024 * 1024, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.clock = clock
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= self.clock():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        if len(value) > self.max_bytes:
            return  # would evict everything else and still not fit
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (self.clock() + ttl_seconds, value)
        self._bytes += len(value)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            oldest = next(iter(self._entries))
            self._drop(oldest)

    async def clear(self, prefix: str) -> int:
        doomed = [key for key in self._entries if key.startswith(prefix)]
        for key in doomed:
            self._drop(key)
        return len(doomed)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def _drop(self, key: str) -> None:
        _, value = self._entries.pop(key)
        self._bytes -= len(value)


class RedisCache:
    """Entries in Redis with native expiry (`SET ... PX`), so every replica sees the same cache."""

    def __init__(self, client: Redis) -> None:
        self._client = client

    @classmethod
    def from_url(cls, url: str, timeout_seconds: float = 1.0) -> RedisCache:
        from redis.asyncio import Redis

        # Short timeouts: a cache that is slow is served around (a miss), not waited on.
        return cls(Redis.from_url(url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds))

    async def get(self, key: str) -> bytes | None:
        value = await self._client.get(key)
        return bytes(value) if value is not None else None

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        await self._client.set(key, value, px=max(1, int(ttl_seconds * 1000)))

    async def clear(self, prefix: str) -> int:
        deleted = 0
        batch: list[bytes] = []
        async for key in self._client.scan_iter(match=_glob_escape(prefix) + "*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                deleted += await self._client.unlink(*batch)
                batch.clear()
        if batch:
            deleted += await self._client.unlink(*batch)
        return deleted

    async def ping(self) -> None:
        await self._client.ping()

    async def close(self) -> None:
        await self._client.aclose()


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)
