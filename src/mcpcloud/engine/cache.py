"""The result cache, a wrapper policy: serve an opted-in tool's successful result again for its TTL.

The key is the tool, its arguments in canonical JSON and the caller's principal id, so one
caller never receives another caller's result, unless the tool declared its result public.
Error results and exceptions are never stored. Concurrent misses on one key in one process
compute once: the first caller runs the tool, the others wait for its result.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from pydantic import BaseModel

from mcpcloud.config import CacheSettings
from mcpcloud.core.calls import Call
from mcpcloud.core.registry import ToolRegistry
from mcpcloud.engine.policy import Policy, Proceed
from mcpcloud.state.cache import CacheBackend, MemoryCache, RedisCache

logger = logging.getLogger(__name__)

PUBLIC = "*public*"

CacheListener = Callable[[str, str], None]
"""Called with (event, tool); event is `hit`, `miss`, `store`, `coalesced` or `backend_error`."""


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def cache_key(prefix: str, tool: str, arguments: Any, caller: str) -> str:
    digest = hashlib.sha256(canonical_json({"args": arguments, "caller": caller}).encode()).hexdigest()
    return f"{prefix}{tool}:{digest}"


@dataclass
class CacheMetrics:
    """Hit/miss counters per tool, plus listeners (e.g. a Prometheus exporter) told of each event."""

    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    listeners: list[CacheListener] = field(default_factory=list)

    def record(self, event: str, tool: str) -> None:
        self.counts[(event, tool)] = self.counts.get((event, tool), 0) + 1
        for listener in self.listeners:
            listener(event, tool)

    def count(self, event: str, tool: str) -> int:
        return self.counts.get((event, tool), 0)


@dataclass
class _Flight:
    done: anyio.Event = field(default_factory=anyio.Event)
    payload: bytes | None = None


class ResultCache(Policy):
    name = "cache"

    def __init__(
        self,
        backend: CacheBackend,
        ttls: dict[str, tuple[float, bool]],
        namespace: str,
        metrics: CacheMetrics | None = None,
    ) -> None:
        self.backend = backend
        self.ttls = ttls
        self.namespace = namespace
        self.metrics = metrics or CacheMetrics()
        self._flights: dict[str, _Flight] = {}

    async def around(self, call: Call, proceed: Proceed) -> Any:
        entry = self.ttls.get(call.name) if call.kind == "tool" else None
        if entry is None:
            return await proceed()
        ttl, public = entry
        tool = call.name
        key = cache_key(self.namespace, tool, call.arguments or {}, PUBLIC if public else call.principal.id)

        cached = await self._get(key, tool)
        if cached is not None:
            self.metrics.record("hit", tool)
            return json.loads(cached)

        flight = self._flights.get(key)
        if flight is not None:
            await flight.done.wait()
            if flight.payload is not None:
                self.metrics.record("coalesced", tool)
                return json.loads(flight.payload)
            return await proceed()  # the leader failed; errors are not shared either

        self.metrics.record("miss", tool)
        flight = self._flights[key] = _Flight()
        try:
            result = await proceed()
            payload = _successful_payload(result)
            if payload is not None:
                flight.payload = payload
                await self._set(key, payload, ttl, tool)
            return result
        finally:
            del self._flights[key]
            flight.done.set()

    # A cache that is down must not take the tools down with it: it is served around, and counted.
    async def _get(self, key: str, tool: str) -> bytes | None:
        try:
            return await self.backend.get(key)
        except Exception as exc:  # noqa: BLE001 - any backend failure is a miss
            self._backend_failed(tool, exc)
            return None

    async def _set(self, key: str, payload: bytes, ttl: float, tool: str) -> None:
        try:
            await self.backend.set(key, payload, ttl)
        except Exception as exc:  # noqa: BLE001 - the result is still returned, just not kept
            self._backend_failed(tool, exc)
            return
        self.metrics.record("store", tool)

    def _backend_failed(self, tool: str, exc: Exception) -> None:
        self.metrics.record("backend_error", tool)
        logger.warning("result cache unavailable, serving %s uncached: %s", tool, type(exc).__name__)


def _successful_payload(result: Any) -> bytes | None:
    """The wire form of a successful tools/call result, or None for errors and other replies."""
    if isinstance(result, BaseModel):
        result = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    if not isinstance(result, dict) or result.get("isError") or "content" not in result:
        return None  # errors, and input-required interim results, are never cached
    return json.dumps(result, separators=(",", ":"), ensure_ascii=False).encode()


def effective_ttls(registry: ToolRegistry, overrides: dict[str, float]) -> dict[str, tuple[float, bool]]:
    """Tool -> (ttl, public) for every tool whose results may be cached."""
    ttls: dict[str, tuple[float, bool]] = {}
    for policy in registry.tools.values():
        ttl = overrides.get(policy.name, policy.cache_ttl)
        if ttl:
            ttls[policy.name] = (float(ttl), policy.cache_public)
    return ttls


def open_backend(settings: CacheSettings) -> CacheBackend:
    if settings.backend == "redis":
        return RedisCache.from_url(settings.redis_url.get_secret_value())
    return MemoryCache(max_entries=settings.max_entries, max_bytes=settings.max_bytes)


def build_result_cache(settings: CacheSettings, registry: ToolRegistry) -> ResultCache | None:
    """The wrapper, or None when caching is off or no enabled tool opted in."""
    if not settings.enabled:
        return None
    ttls = effective_ttls(registry, settings.ttl_overrides)
    if not ttls:
        return None
    return ResultCache(open_backend(settings), ttls, settings.namespace)


class CacheClearError(Exception):
    """The cache cannot be cleared from here; the message says why."""


async def clear_cache(settings: CacheSettings, tool: str | None = None) -> int:
    """Delete cached results (of one tool, or all); return how many entries went."""
    if settings.backend != "redis":
        raise CacheClearError(
            "cache.backend is 'memory': each server process holds its own cache and drops it on restart; "
            "only the 'redis' backend can be cleared from outside"
        )
    from redis.exceptions import RedisError

    backend = open_backend(settings)
    try:
        return await backend.clear(settings.namespace + (f"{tool}:" if tool else ""))
    except RedisError as exc:
        raise CacheClearError(f"cannot reach the Redis cache: {exc}") from None
    finally:
        await backend.close()
