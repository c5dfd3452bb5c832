"""The result cache: both backends on their own, then the pipeline stage on real backends."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from data_helpers import connected, make_server, make_sqlite
from mcp_types import CallToolResult, TextContent

from mcpcloud.core.calls import Call
from mcpcloud.core.principal import ANONYMOUS, Principal
from mcpcloud.engine.cache import ResultCache, cache_key
from mcpcloud.state.cache import CacheBackend, MemoryCache, RedisCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_lru_evicts_by_count_bytes_and_age() -> None:
    clock = FakeClock()
    cache = MemoryCache(max_entries=2, max_bytes=10, clock=clock)
    await cache.set("a", b"1", 10)
    await cache.set("b", b"2", 10)
    assert await cache.get("a") == b"1"  # a is now the most recent
    await cache.set("c", b"3", 10)
    assert await cache.get("b") is None and await cache.get("a") == b"1" and await cache.get("c") == b"3"
    await cache.set("big", b"123456789", 10)  # 9 bytes: the least recent (a) goes to stay within 10
    assert await cache.get("a") is None and await cache.get("c") == b"3" and cache.size_bytes == 10
    await cache.set("huge", b"x" * 11, 10)  # larger than the whole cache: not stored, nothing evicted
    assert await cache.get("huge") is None and await cache.get("big") == b"123456789"
    clock.now += 10
    assert await cache.get("big") is None and await cache.get("c") is None and len(cache) == 0


async def test_memory_clear_by_prefix() -> None:
    cache = MemoryCache()
    for key in ("p:query:1", "p:query:2", "p:list_tables:1", "q:query:1"):
        await cache.set(key, b"v", 60)
    assert await cache.clear("p:query:") == 2
    assert await cache.get("p:list_tables:1") == b"v" and await cache.get("q:query:1") == b"v"


async def test_redis_backend(redis_url: str, redis_prefix: str) -> None:
    cache = RedisCache.from_url(redis_url)
    try:
        await cache.ping()
        await cache.set(redis_prefix + "t:1", b"one", 60)
        await cache.set(redis_prefix + "t:2", b"two", 60)
        await cache.set(redis_prefix + "u:1", b"three", 60)
        await cache.set(redis_prefix + "short", b"gone soon", 0.05)
        assert await cache.get(redis_prefix + "t:1") == b"one"
        assert await cache.clear(redis_prefix + "t:") == 2
        assert await cache.get(redis_prefix + "t:2") is None and await cache.get(redis_prefix + "u:1") == b"three"
        for _ in range(100):  # Redis expires the key itself; wait for it, boundedly
            if await cache.get(redis_prefix + "short") is None:
                break
            await asyncio.sleep(0.02)
        assert await cache.get(redis_prefix + "short") is None
    finally:
        await cache.close()


def context(tool: str, arguments: dict[str, Any], principal: str | None = None, method: str = "tools/call") -> Call:
    caller = Principal(principal, "api_key", frozenset()) if principal else ANONYMOUS
    call = Call.parse(method, {"name": tool, "arguments": arguments}, caller, "2025-11-25")
    assert call is not None
    return call


async def through(stage: ResultCache, call: Call, tool: Any) -> Any:
    """The call through the cache wrapper, as the engine runs it."""
    return await stage.around(call, lambda: tool(call))


class Tool:
    """Stands in for the rest of the pipeline: counts calls and answers what it is told to."""

    def __init__(self) -> None:
        self.calls = 0
        self.error = False
        self.gate: asyncio.Event | None = None

    async def __call__(self, call: Call) -> dict[str, Any]:
        self.calls += 1
        if self.gate:
            await self.gate.wait()
        who = call.principal.id
        result = CallToolResult(content=[TextContent(type="text", text=f"{self.calls} for {who}")], is_error=self.error)
        return result.model_dump(mode="json", by_alias=True, exclude_none=True)  # the wire form, as the SDK hands it up


def text(result: Any) -> str:
    return str(result["content"][0]["text"])


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> Iterator[tuple[CacheBackend, str]]:
    if request.param == "memory":
        yield MemoryCache(), "mcpcloud:cache:"
        return
    url = request.getfixturevalue("redis_url")
    prefix = request.getfixturevalue("redis_prefix")
    yield RedisCache.from_url(url), prefix


def stage_for(backend: tuple[CacheBackend, str]) -> ResultCache:
    store, prefix = backend
    return ResultCache(store, {"private": (60.0, False), "public": (60.0, True)}, prefix)


async def test_hit_after_miss_with_canonical_arguments(backend: tuple[CacheBackend, str]) -> None:
    stage, tool = stage_for(backend), Tool()
    first = await through(stage, context("private", {"a": 1, "b": [1, 2]}, "alice"), tool)
    second = await through(stage, context("private", {"b": [1, 2], "a": 1}, "alice"), tool)
    assert tool.calls == 1 and text(second) == text(first) == "1 for alice"
    other_args = await through(stage, context("private", {"a": 2, "b": [1, 2]}, "alice"), tool)
    assert tool.calls == 2 and text(other_args) == "2 for alice"
    assert stage.metrics.count("hit", "private") == 1 and stage.metrics.count("miss", "private") == 2
    await backend[0].close()


async def test_one_callers_result_never_reaches_another(backend: tuple[CacheBackend, str]) -> None:
    stage, tool = stage_for(backend), Tool()
    alice = await through(stage, context("private", {}, "alice"), tool)
    bob = await through(stage, context("private", {}, "bob"), tool)
    anonymous = await through(stage, context("private", {}), tool)
    assert [text(alice), text(bob), text(anonymous)] == ["1 for alice", "2 for bob", "3 for anonymous"]
    shared_a = await through(stage, context("public", {}, "alice"), tool)
    shared_b = await through(stage, context("public", {}, "bob"), tool)
    assert tool.calls == 4 and text(shared_b) == text(shared_a)
    await backend[0].close()


async def test_errors_are_never_cached(backend: tuple[CacheBackend, str]) -> None:
    stage, tool = stage_for(backend), Tool()
    tool.error = True
    await through(stage, context("private", {}, "alice"), tool)
    await through(stage, context("private", {}, "alice"), tool)
    assert tool.calls == 2

    async def crash(call: Call) -> Any:
        raise RuntimeError("tool crashed")

    for _ in range(2):
        with pytest.raises(RuntimeError):
            await through(stage, context("public", {}), crash)
    assert await backend[0].get(cache_key(backend[1], "public", {}, "*public*")) is None
    await backend[0].close()


async def test_concurrent_misses_compute_once(backend: tuple[CacheBackend, str]) -> None:
    stage, tool = stage_for(backend), Tool()
    tool.gate = asyncio.Event()
    calls = [asyncio.create_task(through(stage, context("public", {"q": 1}, f"user{i}"), tool)) for i in range(5)]
    while tool.calls == 0:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # let the other four reach the stage and wait
    tool.gate.set()
    results = await asyncio.gather(*calls)
    assert tool.calls == 1
    assert len({text(r) for r in results}) == 1 and text(results[0]).startswith("1 for user")
    assert stage.metrics.count("coalesced", "public") == 4
    await backend[0].close()


async def test_a_cache_that_is_down_is_served_around() -> None:
    stage, tool = ResultCache(RedisCache.from_url("redis://127.0.0.1:1/0"), {"public": (60.0, True)}, "p:"), Tool()
    first = await through(stage, context("public", {}), tool)
    second = await through(stage, context("public", {}), tool)
    assert tool.calls == 2 and text(first) == "1 for anonymous" and text(second) == "2 for anonymous"
    assert stage.metrics.count("backend_error", "public") == 4  # two failed reads, two failed writes
    await stage.backend.close()


async def test_other_messages_and_tools_pass_through() -> None:
    stage, tool = ResultCache(MemoryCache(), {"public": (60.0, True)}, "p:"), Tool()
    await through(stage, context("not_opted_in", {}), tool)
    await through(stage, context("not_opted_in", {}), tool)
    await through(stage, context("public", {}, method="prompts/get"), tool)
    assert tool.calls == 3


async def test_stage_on_the_real_server(tmp_path: Path) -> None:
    """list_tables opts in (public, schema_cache_seconds); query does not unless overridden."""
    db = make_sqlite(tmp_path / "c.db", "CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);")
    pack = {"sql": {"databases": {"main": {"url": f"sqlite:///{db}"}}, "schema_cache_seconds": 60}}

    async def run(**settings: Any) -> tuple[list[str], list[list[Any]]]:
        server = make_server("sql", pack, **settings)
        async with connected(server) as client:
            await client.call_tool("list_tables", {})
            await client.call_tool("query", {"sql": "SELECT count(*) FROM a"})
            make_sqlite(db, "CREATE TABLE IF NOT EXISTS b (y INTEGER); INSERT INTO a VALUES (2);")
            tables = (await client.call_tool("list_tables", {})).structured_content["result"]
            rows = (await client.call_tool("query", {"sql": "SELECT count(*) FROM a"})).structured_content["rows"]
        make_sqlite(db, "DROP TABLE IF EXISTS b; DELETE FROM a WHERE x = 2;")
        return [t["name"] for t in tables], rows

    assert await run() == (["a"], [[2]])  # list_tables served from the cache, query fresh
    assert await run(cache={"enabled": False}) == (["a", "b"], [[2]])
    assert await run(cache={"ttl_overrides": {"query": 60, "list_tables": 0}}) == (["a", "b"], [[1]])
