"""Redis killed, frozen, restarted (with and without its data) under a running server: clean 503s, then recovery.

Every affected request gets 503 + Retry-After + a JSON-RPC error naming the feature and cause, is
audited and counted; /readyz reports Redis; the server recovers without a restart; with Redis
persistence no API key is lost, and `keys export` / `keys import` restore a Redis that came back empty.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import MCPCLOUD, RunningServer, server_env, start_server
from tests.scale.throwaway_redis import ThrowawayRedis
from tests.wire import legacy_initialize, modern_call


@pytest.fixture(scope="module")
def fault_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawayRedis]:
    server = ThrowawayRedis(tmp_path_factory.mktemp("redis") / "data").start()
    yield server
    server.kill()


def _env(url: str, **extra: str) -> dict[str, str]:
    return {
        "MCPCLOUD_REDIS__URL": url, "MCPCLOUD_AUTH__MODES": "api_keys", "MCPCLOUD_AUTH__API_KEYS__STORE": "redis",
        "MCPCLOUD_LIMITS__RATE": "10000/minute", "MCPCLOUD_AUDIT__ENABLED": "true", **extra,
    }  # fmt: skip


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MCPCLOUD, *args], env=server_env(**env), capture_output=True, text=True, input=stdin, timeout=60, check=False
    )


@pytest.fixture(scope="module")
def keyed_server(
    fault_redis: ThrowawayRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, str]]:
    env = _env(fault_redis.url)
    created = _cli(env, "keys", "create", "--name", "faults", "--scopes", "*")
    assert created.returncode == 0, created.stderr
    server = start_server(tmp_path_factory.mktemp("faults"), "--packs", "core", env=env)
    yield server, created.stdout.strip()
    server.stop()


def _call(server: RunningServer, key: str) -> httpx.Response:
    headers, body = modern_call("echo", {"message": "hi"}, request_id=7)
    return httpx.post(server.url, json=body, headers={**headers, "Authorization": f"Bearer {key}"}, timeout=15)


def _assert_unavailable(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    error = response.json()["error"]
    assert error["code"] == -32053  # the engine's `unavailable` outcome
    assert "shared state (Redis)" in error["message"] and "retry after 5 s" in error["message"]
    assert error["data"]["retryAfterSeconds"] == 5
    assert "127.0.0.1" not in error["message"]  # never where Redis is
    return error["data"]


def _until(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def _counted(server: RunningServer, feature: str) -> float:
    for line in httpx.get(f"{server.base_url}/metrics", timeout=5).text.splitlines():
        if (
            line.startswith("mcpcloud_state_unavailable_total{")
            and f'feature="{feature}"' in line
            and "refused" in line
        ):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_killed_redis_gets_503s_then_recovers_without_restart(
    keyed_server: tuple[RunningServer, str], fault_redis: ThrowawayRedis
) -> None:
    server, key = keyed_server
    assert _call(server, key).status_code == 200
    fault_redis.kill()
    try:
        data = _assert_unavailable(_call(server, key))
        assert data["cause"] == "cannot be reached"
        _until(lambda: httpx.get(f"{server.base_url}/readyz", timeout=10).status_code == 503)  # probes cache 1 s
        assert httpx.get(f"{server.base_url}/readyz", timeout=10).json()["checks"]["redis"]["ready"] is False
        assert _counted(server, "api keys") >= 1
        audited = [json.loads(line) for line in server.log().splitlines() if '"event": "audit"' in line]
        assert any(entry["outcome"] == "unavailable" and "api keys" in entry["detail"] for entry in audited)
        assert server.process.poll() is None
    finally:
        fault_redis.start()  # same data directory: the append-only file brings every key back
    # No restart, and no 500s from stale pooled connections: the first call after Redis is back succeeds.
    assert [_call(server, key).status_code for _ in range(5)] == [200] * 5
    _until(lambda: httpx.get(f"{server.base_url}/readyz", timeout=5).status_code == 200)


def test_frozen_redis_answers_503_within_the_timeout(
    keyed_server: tuple[RunningServer, str], fault_redis: ThrowawayRedis
) -> None:
    server, key = keyed_server
    fault_redis.freeze()
    try:
        started = time.monotonic()
        response = _call(server, key)
        waited = time.monotonic() - started
        data = _assert_unavailable(response)
        assert data["cause"] == "did not answer in time"
        assert waited < 4  # redis.timeout_seconds is 1 s, not the 5 s+ a default client waits
    finally:
        fault_redis.thaw()
    _until(lambda: _call(server, key).status_code == 200)


def test_a_quick_redis_restart_costs_no_request(
    keyed_server: tuple[RunningServer, str], fault_redis: ThrowawayRedis
) -> None:
    server, key = keyed_server
    assert _call(server, key).status_code == 200  # the pool now holds connections to this Redis
    fault_redis.kill()
    fault_redis.start()  # same data: the key is back; every pooled connection is now stale
    assert [_call(server, key).status_code for _ in range(5)] == [200] * 5  # retried once, reconnected


def test_redis_restarted_empty_then_keys_import_restores_every_key(
    keyed_server: tuple[RunningServer, str], fault_redis: ThrowawayRedis, tmp_path: Path
) -> None:
    server, key = keyed_server
    env = _env(fault_redis.url)
    backup = tmp_path / "keys.json"
    exported = _cli(env, "keys", "export", "--output", str(backup))
    assert exported.returncode == 0, exported.stderr
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    assert key not in backup.read_text()  # hashes only
    fault_redis.kill()
    fault_redis.start(empty=True)
    _until(lambda: _call(server, key).status_code == 401)  # the key is gone with the data
    imported = _cli(env, "keys", "import", str(backup))
    assert imported.returncode == 0 and "imported 1 key records" in imported.stderr, imported.stderr
    assert _call(server, key).status_code == 200
    again = _cli(env, "keys", "import", str(backup))
    assert "imported 0 key records; kept 1 already present" in again.stderr


def test_a_bad_import_file_is_refused_and_changes_nothing(fault_redis: ThrowawayRedis, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"keys": [{"id": "x"}]}')
    refused = _cli(_env(fault_redis.url), "keys", "import", str(bad))
    assert refused.returncode == 2 and "not a `mcpcloud keys export` file" in refused.stderr


def test_fail_open_lets_calls_through_unlimited_and_counts_them(tmp_path: Path) -> None:
    redis_server = ThrowawayRedis(tmp_path / "data", persistent=False).start()
    env = {
        "MCPCLOUD_REDIS__URL": redis_server.url,
        "MCPCLOUD_LIMITS__RATE": "10000/minute",
        "MCPCLOUD_LIMITS__FAIL_OPEN": "true",
    }
    server = start_server(tmp_path, "--packs", "core", env=env)
    try:
        redis_server.kill()
        headers, body = modern_call("echo", {"message": "open"})
        response = httpx.post(server.url, json=body, headers=headers, timeout=15)
        assert response.status_code == 200 and '"open"' in response.text
        metrics = httpx.get(f"{server.base_url}/metrics", timeout=5).text
        assert 'mcpcloud_state_unavailable_total{action="failed_open",feature="rate limit"} 1.0' in metrics
        # Only rate limits fail open: a legacy session cannot be opened without its shared record.
        init_headers, init_body = legacy_initialize()
        refused = httpx.post(server.url, json=init_body, headers=init_headers, timeout=15)
        assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
        error = refused.json()["error"]
        assert error["code"] == -32053 and error["data"]["feature"] == "sessions" and refused.json()["id"] == 1
        assert error["data"]["cause"] == "cannot be reached"
    finally:
        server.stop()
        redis_server.kill()
