"""SIGTERM drains: readiness turns 503, new requests are refused, in-flight calls finish, exit 0."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
from tests.conftest import start_server
from tests.wire import modern_call


def call_in_background(
    url: str, seconds: float, results: dict[str, httpx.Response | BaseException]
) -> threading.Thread:
    def run() -> None:
        headers, body = modern_call("sleep_then_echo", {"seconds": seconds, "message": "finished"})
        try:
            results["slow"] = httpx.post(url, headers=headers, json=body, timeout=30)
        except BaseException as exc:  # reported by the test
            results["slow"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_until(predicate, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_sigterm_drains_in_flight_calls_and_refuses_new_ones(tmp_path: Path) -> None:
    server = start_server(
        tmp_path, "--packs", "core,tests.packs.slow", env={"MCPCLOUD_HTTP__SHUTDOWN_GRACE_SECONDS": "20"}
    )
    results: dict[str, httpx.Response | BaseException] = {}
    thread = call_in_background(server.url, 2.0, results)
    time.sleep(0.5)  # let the slow call reach the tool

    server.process.send_signal(signal.SIGTERM)
    ready = None

    def readiness_turned() -> bool:
        nonlocal ready
        ready = httpx.get(f"{server.base_url}/readyz")
        return ready.status_code == 503

    wait_until(readiness_turned)
    assert ready is not None and ready.json()["status"] == "draining"

    headers, body = modern_call("echo", {"message": "too late"})
    refused = httpx.post(server.url, headers=headers, json=body)
    assert refused.status_code == 503
    assert "shutting down" in refused.json()["error"]["message"]
    assert refused.headers["retry-after"] == "1"

    thread.join(30)
    slow = results["slow"]
    assert isinstance(slow, httpx.Response), slow
    assert slow.status_code == 200
    assert slow.json()["result"]["content"][0]["text"] == "finished"
    assert server.process.wait(15) == 0, server.log()


def test_grace_period_bounds_the_drain(tmp_path: Path) -> None:
    server = start_server(
        tmp_path, "--packs", "core,tests.packs.slow", env={"MCPCLOUD_HTTP__SHUTDOWN_GRACE_SECONDS": "1"}
    )
    results: dict[str, httpx.Response | BaseException] = {}
    thread = call_in_background(server.url, 60.0, results)
    time.sleep(0.5)
    server.process.send_signal(signal.SIGTERM)
    # Bounded: the grace period (1 s) plus uvicorn's own close, far below the call's 60 s.
    assert server.process.wait(15) == 0, server.log()
    thread.join(30)


def test_sigterm_when_idle_exits_promptly_with_status_0(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    assert server.stop(signal.SIGTERM) == 0
    assert "Traceback" not in server.log()
