"""Rate limits (memory and Redis, shared by two processes), concurrency cap, timeouts, argument size."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
import redis.asyncio
from mcp import Client, StdioServerParameters
from security_helpers import (
    MCPCLOUD,
    _in_process_build,
    bearer,
    connected,
    post_call,
    refused,
    server_env,
    serving,
    settings,
    subprocess_servers,
)
from slow_pack import hold_events

from mcpcloud.core.outcomes import RATE_LIMITED_CODE as RATE_LIMITED
from mcpcloud.security.apikeys import mint, revoked
from mcpcloud.security.keystore import FileKeyStore, RedisKeyStore
from mcpcloud.state.ratelimit import MemoryRateLimiter, Rate, RedisRateLimiter


async def _two_keys(path: Path) -> tuple[str, str]:
    store = FileKeyStore(path)
    first, second = mint("first", ["*"], None), mint("second", ["*"], None)
    await store.add(first.record)
    await store.add(second.record)
    return first.key, second.key


async def test_http_rate_limit_is_429_with_retry_after_per_principal_and_per_tool(tmp_path: Path) -> None:
    first, second = await _two_keys(tmp_path / "keys.json")
    config = settings(
        auth={"modes": "api_keys", "api_keys": {"file": str(tmp_path / "keys.json")}},
        limits={"rate": "3/hour", "tool_rates": {"get_time": "1/hour"}},
    )
    with serving(config) as server:
        async with connected(server.url, bearer(first)) as session:
            assert (await session.call_tool("get_time", {})).is_error is False
            error = await refused(server.url, bearer(first), "2026-07-28", tool="get_time")
            assert error.code == RATE_LIMITED and "for tool 'get_time'" in error.message
            assert error.error.data["retryAfterSeconds"] > 0
            assert (await session.call_tool("echo", {"message": "other tool"})).content[0].text == "other tool"
        response = post_call(server.url, bearer(first), "echo", {"message": "x"})
        assert response.status_code == 429
        assert 1 <= int(response.headers["retry-after"]) <= 3600
        body = response.json()
        assert body["id"] == 7 and body["error"]["code"] == RATE_LIMITED
        assert "rate limit of 3/hour exceeded for key:" in body["error"]["message"]
        # Another principal has its own budget: the server keeps serving.
        async with connected(server.url, bearer(second), "2026-07-28") as session:
            assert (await session.call_tool("echo", {"message": "fine"})).content[0].text == "fine"


async def test_stdio_rate_limit_is_a_json_rpc_error_with_the_retry_delay() -> None:
    params = StdioServerParameters(
        command=MCPCLOUD, args=["serve", "--transport", "stdio"], env=server_env(MCPCLOUD_LIMITS__RATE="2/hour")
    )
    async with Client(params) as session:
        for n in range(2):
            assert (await session.call_tool("echo", {"message": str(n)})).content[0].text == str(n)
        with pytest.raises(Exception) as caught:
            await session.call_tool("echo", {"message": "one too many"})
        error = caught.value
        assert getattr(error, "code", None) == RATE_LIMITED
        assert "rate limit of 2/hour exceeded for local:local" in str(error)
        assert error.error.data["retryAfterSeconds"] > 0  # type: ignore[attr-defined]
        assert (await session.list_tools()).tools  # the session is fine


async def test_two_processes_share_one_redis_budget_and_key_store(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    keys = RedisKeyStore(client, redis_prefix)
    new = mint("fleet", ["*"], None)
    await keys.add(new.record)
    key = new.key
    env = {
        "MCPCLOUD_AUTH__MODES": "api_keys",
        "MCPCLOUD_AUTH__API_KEYS__STORE": "redis",
        "MCPCLOUD_LIMITS__BACKEND": "redis",
        "MCPCLOUD_LIMITS__RATE": "3/hour",
        "MCPCLOUD_REDIS__URL": redis_url,
        "MCPCLOUD_REDIS__KEY_PREFIX": redis_prefix,
    }
    try:
        with subprocess_servers(tmp_path, env, count=2) as (a, b):
            async with connected(a.url, bearer(key)) as on_a, connected(b.url, bearer(key), "2026-07-28") as on_b:
                assert (await on_a.call_tool("echo", {"message": "a1"})).content[0].text == "a1"
                assert (await on_b.call_tool("echo", {"message": "b1"})).content[0].text == "b1"
                assert (await on_a.call_tool("echo", {"message": "a2"})).content[0].text == "a2"
            # Three calls spent across two processes: the budget is gone on both.
            for server in (a, b):
                response = post_call(server.url, bearer(key), "echo", {"message": "x"})
                assert response.status_code == 429 and int(response.headers["retry-after"]) >= 1
            assert "rate limit" in (await refused(b.url, bearer(key), tool="echo", arguments={"message": "y"})).message
            # One revocation in the shared store holds on every replica at once.
            await keys.replace(revoked(new.record))
            for server in (a, b):
                response = post_call(server.url, bearer(key), "echo", {"message": "x"})
                assert response.status_code == 401 and "was revoked" in response.text
    finally:
        await client.aclose()


async def test_concurrency_cap_per_principal_over_http(tmp_path: Path) -> None:
    first, second = await _two_keys(tmp_path / "keys.json")
    config = settings(
        auth={"modes": "api_keys", "api_keys": {"file": str(tmp_path / "keys.json")}}, limits={"concurrency": 1}
    )
    started, release = hold_events("http-cap")
    with serving(config) as server:
        async with connected(server.url, bearer(first)) as session, anyio.create_task_group() as tg:
            results: list[str] = []

            async def held() -> None:
                results.append((await session.call_tool("hold", {"key": "http-cap"})).content[0].text)

            tg.start_soon(held)
            await anyio.to_thread.run_sync(started.wait)
            response = post_call(server.url, bearer(first), "echo", {"message": "x"})
            assert response.status_code == 429 and response.headers["retry-after"] == "1"
            assert "already has 1 tool calls in flight" in response.json()["error"]["message"]
            async with connected(server.url, bearer(second)) as other:  # someone else is not affected
                assert (await other.call_tool("echo", {"message": "other"})).content[0].text == "other"
            release.set()
        assert results == ["released http-cap"]
        async with connected(server.url, bearer(first)) as session:  # the slot was given back
            assert (await session.call_tool("echo", {"message": "again"})).content[0].text == "again"


async def test_concurrency_cap_in_the_pipeline_without_http() -> None:
    server = _in_process_build(limits={"concurrency": 1})
    started, release = hold_events("pipeline-cap")
    async with Client(server.mcp) as session, anyio.create_task_group() as tg:
        tg.start_soon(session.call_tool, "hold", {"key": "pipeline-cap"})
        await anyio.to_thread.run_sync(started.wait)
        with pytest.raises(Exception, match="already has 1 tool calls in flight") as caught:
            await session.call_tool("echo", {"message": "x"})
        assert getattr(caught.value, "code", None) == RATE_LIMITED
        release.set()
    async with Client(server.mcp) as session:
        assert (await session.call_tool("echo", {"message": "free"})).content[0].text == "free"


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_a_tool_that_runs_too_long_is_cancelled_with_a_tool_error(mode: str) -> None:
    config = settings(limits={"tool_timeout_seconds": 60, "tool_timeouts": {"nap": 0.3}})
    with serving(config) as server:
        async with connected(server.url, {}, mode) as session:
            result = await session.call_tool("nap", {"seconds": 30})
            assert result.is_error is True
            assert result.content[0].text == "tool 'nap' timed out after 0.3 s and was cancelled"
            assert (await session.call_tool("nap", {"seconds": 0})).content[0].text == "slept 0.0"


async def test_the_default_timeout_applies_to_every_tool_in_the_pipeline() -> None:
    server = _in_process_build(limits={"tool_timeout_seconds": 0.2})
    async with Client(server.mcp) as session:
        result = await session.call_tool("nap", {"seconds": 30})
        assert result.is_error and "timed out after 0.2 s" in result.content[0].text
        assert (await session.call_tool("echo", {"message": "quick"})).content[0].text == "quick"


async def test_oversized_arguments_are_refused_naming_the_limit() -> None:
    config = settings(limits={"max_argument_bytes": 100})
    with serving(config) as server:
        for mode in ("legacy", "2026-07-28"):
            error = await refused(server.url, {}, mode, tool="echo", arguments={"message": "x" * 200})
            assert "arguments of tool 'echo' are 214 bytes; the limit is 100" in error.message
            async with connected(server.url, {}, mode) as session:
                assert (await session.call_tool("echo", {"message": "small"})).content[0].text == "small"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"limits": {"rate": "lots"}}, "limits.rate: 'lots' is not a rate"),
        ({"limits": {"tool_rates": {"echo": "5 per minute"}}}, "limits.tool_rates.echo"),
        ({"limits": {"tool_rates": {"nope": "5/minute"}}}, "limits.tool_rates.nope: no enabled tool"),
        ({"limits": {"tool_timeouts": {"nope": 1}}}, "limits.tool_timeouts.nope: no enabled tool"),
    ],
)
def test_bad_limits_are_refused_at_startup(overrides: dict, message: str) -> None:  # type: ignore[type-arg]
    from mcpcloud.errors import ConfigError

    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        _in_process_build(**overrides)


@pytest.mark.parametrize(
    "text, burst, count, period",
    [
        ("60/minute", None, 60, 60.0),
        ("1/hour", None, 1, 3600.0),
        ("5/10 minutes", 2, 5, 600.0),
        ("7/day", None, 7, 86400.0),
    ],
)
def test_rates_parse(text: str, burst: int | None, count: int, period: float) -> None:
    rate = Rate.parse(text, burst)
    assert (rate.count, rate.period_seconds, rate.burst) == (count, period, burst or count)


async def test_memory_limiter_allows_the_burst_then_one_call_per_interval() -> None:
    now = [1000.0]
    limiter = MemoryRateLimiter(clock=lambda: now[0])
    rate = Rate.parse("6/minute", burst=3)  # one call per 10 s, three at once
    assert [(await limiter.hit("p", rate)).allowed for _ in range(4)] == [True, True, True, False]
    denied = await limiter.hit("p", rate)
    assert denied.retry_after == pytest.approx(10.0)
    assert (await limiter.hit("other", rate)).allowed  # budgets are per key
    now[0] += 10.0
    assert (await limiter.hit("p", rate)).allowed and not (await limiter.hit("p", rate)).allowed


@pytest.mark.parametrize("text", ["1/hour", "3/hour", "10/second"])
async def test_redis_limiter_allows_exactly_the_burst(text: str, redis_url: str, redis_prefix: str) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        limiter = RedisRateLimiter(client, redis_prefix)
        rate = Rate.parse(text, burst=3) if text == "10/second" else Rate.parse(text)
        results = [await limiter.hit("p", rate) for _ in range(rate.burst + 1)]
        assert [r.allowed for r in results] == [True] * rate.burst + [False]
        assert 0 < results[-1].retry_after <= rate.interval + 0.01
    finally:
        await client.aclose()
