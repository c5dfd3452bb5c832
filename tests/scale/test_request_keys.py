"""Request-state keys shared in Redis: created once, rotated by activation time, old tokens still open."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from click.testing import CliRunner
from mcp.server.request_state import AESGCMRequestStateCodec
from redis.asyncio import Redis
from tests.scale.conftest import SHARED_REDIS, unique_prefix

from mcpcloud.cli import main
from mcpcloud.config import RedisSettings
from mcpcloud.state.redis import redis_client
from mcpcloud.state.requeststate import RedisKeyRing, SharedKeyCodec


@pytest.fixture
async def redis_and_prefix() -> AsyncIterator[tuple[Redis, str]]:
    prefix = unique_prefix("ring")
    redis = redis_client(RedisSettings(url=SHARED_REDIS))
    yield redis, prefix
    await redis.delete(prefix + "requeststate:keys")
    await redis.aclose()


def _secrets(entries: list[bytes]) -> list[str]:
    return [entry.decode().partition(":")[2] for entry in entries]


async def test_the_ring_is_created_once_and_shared(redis_and_prefix: tuple[Redis, str]) -> None:
    redis, prefix = redis_and_prefix
    first, second = SharedKeyCodec(), SharedKeyCodec()
    await RedisKeyRing(redis, prefix, first).load()
    await RedisKeyRing(redis, prefix, second).load()
    assert await redis.llen(prefix + "requeststate:keys") == 1
    assert second.unseal(first.seal(b"state")) == b"state"  # what one replica seals, another opens


async def test_rotation_activates_later_and_keeps_old_tokens_valid(redis_and_prefix: tuple[Redis, str]) -> None:
    redis, prefix = redis_and_prefix
    key = prefix + "requeststate:keys"
    codec = SharedKeyCodec()
    ring = RedisKeyRing(redis, prefix, codec)
    await ring.load()
    (old_secret,) = _secrets(await redis.lrange(key, 0, -1))
    old_token = codec.seal(b"old")
    await ring.rotate()
    await ring.load()
    new_secret = _secrets(await redis.lrange(key, 0, -1))[0]
    # Not active yet: still sealing with the old key, so replicas that have not reloaded can open it.
    assert AESGCMRequestStateCodec([old_secret]).unseal(codec.seal(b"x")) == b"x"
    await redis.lset(key, 0, f"0:{new_secret}")  # the activation time has come
    await ring.load()
    assert AESGCMRequestStateCodec([new_secret]).unseal(codec.seal(b"y")) == b"y"
    assert codec.unseal(old_token) == b"old"


def test_the_rotate_command_adds_a_key(redis_and_prefix: tuple[Redis, str]) -> None:
    _, prefix = redis_and_prefix
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("MCPCLOUD_")}
    env = {**clean, "MCPCLOUD_REDIS__URL": SHARED_REDIS, "MCPCLOUD_REDIS__KEY_PREFIX": prefix}
    result = CliRunner().invoke(main, ["state", "rotate-request-keys"], env=env)
    assert result.exit_code == 0 and "added a request-state key" in result.stderr
    import redis as sync_redis

    assert sync_redis.Redis.from_url(SHARED_REDIS).llen(prefix + "requeststate:keys") == 1


def test_rotate_is_refused_when_keys_come_from_a_secret() -> None:
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("MCPCLOUD_")}
    env = {**clean, "MCPCLOUD_REDIS__URL": SHARED_REDIS, "MCPCLOUD_REQUEST_STATE__KEYS": "k" * 40}
    result = CliRunner().invoke(main, ["state", "rotate-request-keys"], env=env)
    assert result.exit_code == 2 and "put" in result.stderr and "new first key" in result.stderr


def test_a_short_configured_key_is_refused_with_the_rule() -> None:
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("MCPCLOUD_")}
    result = CliRunner().invoke(main, ["config"], env={**clean, "MCPCLOUD_REQUEST_STATE__KEYS": "short"})
    assert result.exit_code == 2 and "request_state.keys" in result.stderr and "at least 32 bytes" in result.stderr
    assert "short" not in result.stderr.replace("shortly", "")


def test_configured_keys_never_show_in_the_config_output() -> None:
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("MCPCLOUD_")}
    secret = "s3cret-" + "k" * 40
    result = CliRunner().invoke(main, ["config"], env={**clean, "MCPCLOUD_REQUEST_STATE__KEYS": secret})
    assert result.exit_code == 0 and secret not in result.stdout
    assert '"keys": "**********"' in result.stdout
