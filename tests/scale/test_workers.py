"""`mcpcloud serve --workers 2`: both workers serve, and /metrics stays truthful across them."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from mcp import Client
from tests.conftest import RunningServer, start_server
from tests.scale.conftest import SHARED_REDIS, unique_prefix
from tests.wire import modern_call


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _metric(server: RunningServer, name: str) -> float | None:
    try:
        text = httpx.get(f"{server.base_url}/metrics", timeout=10).text
    except httpx.HTTPError:  # workers restarting
        return None
    for line in text.splitlines():
        if line.startswith((name + " ", name + "{}")):
            return float(line.rsplit(" ", 1)[1])
    return None


def _until(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.2)


def _workers(server: RunningServer) -> list[int]:
    # uvicorn's supervisor -> spawn's resource tracker + the workers; the workers are the ones serving Python code
    return [
        pid
        for pid in _children(server.process.pid)
        if "mcpcloud" in Path(f"/proc/{pid}/cmdline").read_text()
        or "multiprocessing.spawn" in Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
        and "resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_text()
    ]


def test_two_workers_serve_and_metrics_stay_truthful(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics" / "not-yet"  # missing: the supervisor creates it
    env = {
        "MCPCLOUD_REDIS__URL": SHARED_REDIS,
        "MCPCLOUD_REDIS__KEY_PREFIX": unique_prefix("workers"),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    (tmp_path / "metrics").mkdir()
    server = start_server(tmp_path, "--packs", "core,tests.packs.slow", "--workers", "2", env=env)
    try:
        workers = _workers(server)
        assert len(workers) == 2, workers
        # Readiness is set by each worker itself: every scrape (whichever worker answers) reads 1.
        _until(lambda: all(_metric(server, "mcpcloud_ready") == 1.0 for _ in range(6)))

        async def legacy_session() -> None:
            async with Client(server.url, mode="legacy") as client:
                for i in range(6):  # connections land on either worker: shared sessions make that work
                    assert (await client.call_tool("echo", {"message": str(i)})).content[0].text == str(i)

        import anyio

        anyio.run(legacy_session)

        # Calls in flight, then every worker killed: the supervisor restarts them, and the new ones
        # sweep the dead processes' live gauges, so in_flight does not stay at the dead value.
        headers, body = modern_call("sleep_then_echo", {"seconds": 30, "message": "x"})

        def slow_call() -> None:
            try:
                httpx.post(server.url, json=body, headers=headers, timeout=40)
            except httpx.HTTPError:
                pass

        threads = [threading.Thread(target=slow_call, daemon=True) for _ in range(4)]
        for thread in threads:
            thread.start()
        _until(lambda: (_metric(server, "mcpcloud_http_requests_in_flight") or 0) >= 4)
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        _until(lambda: len(set(_workers(server)) - set(workers)) == 2, timeout=40)  # restarted
        _until(lambda: _metric(server, "mcpcloud_http_requests_in_flight") == 0.0, timeout=40)
        _until(lambda: _metric(server, "mcpcloud_ready") == 1.0)
    finally:
        assert server.stop() == 0


def test_workers_without_redis_are_refused(tmp_path: Path) -> None:
    from tests.conftest import spawn_server

    server = spawn_server(tmp_path, "--workers", "2")
    assert server.process.wait(30) == 2
    assert "http.workers is 2" in server.log() and "set redis.url" in server.log()


def test_an_unusable_metrics_directory_is_refused_clearly(tmp_path: Path) -> None:
    from tests.conftest import spawn_server

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    env = {"MCPCLOUD_REDIS__URL": SHARED_REDIS, "PROMETHEUS_MULTIPROC_DIR": str(blocker / "metrics")}
    server = spawn_server(tmp_path, "--workers", "2", env=env)
    assert server.process.wait(30) == 2
    assert "PROMETHEUS_MULTIPROC_DIR" in server.log() and "cannot create the metrics directory" in server.log()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
