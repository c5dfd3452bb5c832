"""One Redis connection setting: `redis.url` turns shared state on; the old `cache.redis_url` still works, noted."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner, Result
from tests.conftest import spawn_server

from mcpcloud.cli import main


def _config(**env: str) -> Result:
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("MCPCLOUD_")}
    return CliRunner().invoke(main, ["config"], env={**clean, **env})


def test_redis_url_alone_makes_limits_and_cache_shared() -> None:
    shown = json.loads(_config(MCPCLOUD_REDIS__URL="redis://:pw@redis.internal:6379/0").stdout)
    assert shown["limits"]["backend"] == "redis" and shown["cache"]["backend"] == "redis"
    assert shown["cache"]["namespace"] == "mcpcloud:cache:"
    assert "pw" not in json.dumps(shown)


def test_without_redis_everything_stays_in_process() -> None:
    shown = json.loads(_config().stdout)
    assert shown["limits"]["backend"] == "memory" and shown["cache"]["backend"] == "memory"


def test_the_deprecated_cache_redis_url_becomes_redis_url() -> None:
    shown = json.loads(_config(MCPCLOUD_CACHE__REDIS_URL="redis://:pw@old:6379/0").stdout)
    assert shown["redis"]["url"] == "**********"  # set (from the old key), and hidden
    assert shown["limits"]["backend"] == "redis" and shown["cache"]["backend"] == "redis"


def test_two_different_redis_servers_are_refused() -> None:
    result = _config(MCPCLOUD_CACHE__REDIS_URL="redis://a:6379/0", MCPCLOUD_REDIS__URL="redis://b:6379/0")
    assert result.exit_code == 2
    assert "cache.redis_url (deprecated) and redis.url name different servers; remove cache.redis_url" in result.stderr


def test_serve_logs_the_deprecation(tmp_path: Path) -> None:
    server = spawn_server(
        tmp_path,
        env={
            "MCPCLOUD_CACHE__REDIS_URL": "redis://127.0.0.1:6379/0",
            "MCPCLOUD_REDIS__KEY_PREFIX": "test:deprecation:",
        },
    )
    try:
        from tests.conftest import wait_ready

        wait_ready(server)
        assert "cache.redis_url is deprecated: set redis.url" in server.log()
    finally:
        server.stop()


def test_workers_with_per_process_rate_limits_are_refused() -> None:
    result = _config(
        MCPCLOUD_REDIS__URL="redis://127.0.0.1:6379/0", MCPCLOUD_HTTP__WORKERS="2",
        MCPCLOUD_LIMITS__BACKEND="memory", MCPCLOUD_LIMITS__RATE="60/minute",
    )  # fmt: skip
    assert result.exit_code == 2 and "each worker would grant the whole rate" in result.stderr
