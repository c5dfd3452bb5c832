"""Session caps (per principal, per process) and idle expiry, with shared (Redis) and in-process sessions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import start_server
from tests.scale.conftest import SHARED_REDIS, forget_prefix, unique_prefix
from tests.wire import legacy_initialize


def _open(url: str) -> httpx.Response:
    headers, body = legacy_initialize()
    return httpx.post(url, json=body, headers=headers, timeout=10)


def _ping(url: str, session: str) -> httpx.Response:
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "Mcp-Session-Id": session,
        "MCP-Protocol-Version": "2025-11-25",
    }
    return httpx.post(url, json={"jsonrpc": "2.0", "id": 2, "method": "ping"}, headers=headers, timeout=10)


@pytest.fixture(params=["redis", "memory"])
def backend_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    if request.param == "memory":
        yield {}
        return
    prefix = unique_prefix("caps")
    yield {"MCPCLOUD_REDIS__URL": SHARED_REDIS, "MCPCLOUD_REDIS__KEY_PREFIX": prefix}
    forget_prefix(prefix)


def test_the_per_principal_cap_refuses_with_a_named_cap_and_frees_on_delete(
    backend_env: dict[str, str], tmp_path: Path
) -> None:
    server = start_server(tmp_path, "--packs", "core", env={**backend_env, "MCPCLOUD_SESSIONS__MAX_PER_PRINCIPAL": "2"})
    try:
        sessions = [_open(server.url).headers["mcp-session-id"] for _ in range(2)]
        refused = _open(server.url)
        assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
        error = refused.json()["error"]
        assert "sessions.max_per_principal = 2" in error["message"] and "DELETE" in error["message"]
        assert error["data"] == {"cap": "sessions.max_per_principal", "limit": 2}
        assert _ping(server.url, sessions[0]).status_code == 200  # open sessions are unaffected
        deleted = httpx.delete(
            server.url, headers={"Mcp-Session-Id": sessions[0], "MCP-Protocol-Version": "2025-11-25"}
        )
        assert deleted.status_code == 200
        assert _open(server.url).status_code == 200  # room again
    finally:
        server.stop()


def test_idle_sessions_expire_after_the_configured_minutes(backend_env: dict[str, str], tmp_path: Path) -> None:
    server = start_server(
        tmp_path, "--packs", "core", env={**backend_env, "MCPCLOUD_SESSIONS__IDLE_TIMEOUT_MINUTES": "0.02"}
    )
    try:
        session = _open(server.url).headers["mcp-session-id"]
        assert _ping(server.url, session).status_code == 200
        time.sleep(2.5)  # 0.02 minutes = 1.2 s
        gone = _ping(server.url, session)
        assert gone.status_code == 404 and "Session not found" in gone.text
    finally:
        server.stop()


def test_the_per_process_cap_names_itself(tmp_path: Path) -> None:
    server = start_server(tmp_path, "--packs", "core", env={"MCPCLOUD_SESSIONS__MAX_PER_PROCESS": "1"})
    try:
        assert _open(server.url).status_code == 200
        refused = _open(server.url)
        assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
        assert refused.json()["error"]["data"] == {"cap": "sessions.max_per_process", "limit": 1}
    finally:
        server.stop()


def test_an_open_get_stream_holds_its_session(backend_env: dict[str, str], tmp_path: Path) -> None:
    env = {**backend_env, "MCPCLOUD_SESSIONS__IDLE_TIMEOUT_MINUTES": "0.02"}
    server = start_server(tmp_path, "--packs", "core", env=env)
    try:
        session = _open(server.url).headers["mcp-session-id"]
        headers = {"Accept": "text/event-stream", "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}
        with httpx.stream("GET", server.url, headers=headers, timeout=10) as stream:
            assert stream.status_code == 200
            time.sleep(3)  # more than twice the idle timeout, with the stream open
            assert _ping(server.url, session).status_code == 200
        time.sleep(3)  # stream closed: now it expires
        assert _ping(server.url, session).status_code == 404
    finally:
        server.stop()
