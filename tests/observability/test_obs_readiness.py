"""Readiness: 503 until startup work is done, 503 as soon as SIGTERM starts the drain."""

from __future__ import annotations

import json
import signal
import socket
import time

import httpx
from obs_helpers import sample, scrape
from starlette.testclient import TestClient

from mcpcloud.config import load_settings
from mcpcloud.http import build_app
from mcpcloud.server import build

DEADLINE_SECONDS = 20.0


def test_not_ready_until_startup_finished() -> None:
    app = build_app(build(load_settings(packs="core")))
    before = TestClient(app)  # not entered: the lifespan (pack pools, session manager) has not run
    response = before.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["startup"] == {"ready": False, "detail": "server is still starting"}
    with TestClient(app) as started:
        ready = started.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        assert "startup" not in ready.json()["checks"]


def poll(predicate, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_sigterm_turns_readiness_503_while_in_flight_work_finishes(server_factory) -> None:
    server = server_factory()
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {}}).encode()
    held = socket.create_connection(("127.0.0.1", server.port))
    held.sendall(
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28\r\nMcp-Method: ping\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body[:10]
    )
    metrics_url = f"{server.base}/metrics"
    poll(
        lambda: sample(scrape(metrics_url), "mcpcloud_http_requests_in_flight") == 1, "the held request to be in flight"
    )
    assert httpx.get(f"{server.base}/readyz").status_code == 200

    server.process.send_signal(signal.SIGTERM)
    poll(lambda: httpx.get(f"{server.base}/readyz").status_code == 503, "readiness to turn 503")
    draining = httpx.get(f"{server.base}/readyz").json()
    assert draining["status"] == "draining"
    assert draining["checks"]["shutdown"] == {"ready": False, "detail": "server is shutting down"}
    refused = httpx.post(server.url, json={"jsonrpc": "2.0", "id": 2, "method": "ping"})
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert server.process.poll() is None  # still waiting for the held request

    held.sendall(body[10:])
    reply = b""
    while b"\r\n\r\n" not in reply:
        chunk = held.recv(65536)
        if not chunk:
            break
        reply += chunk
    held.close()
    assert reply.startswith(b"HTTP/1.1 "), reply
    assert server.process.wait(timeout=DEADLINE_SECONDS) == 0
