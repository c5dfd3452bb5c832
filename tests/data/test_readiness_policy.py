"""Per-pack readiness policy: one failing database names itself in /readyz but, under the default
`degraded` policy, does not take the replica (and its core tools and cached results) out of service."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from mcpcloud.config import load_settings
from mcpcloud.errors import ConfigError
from mcpcloud.http import build_app
from mcpcloud.server import build

DOWN = {"url": "postgresql://postgres@127.0.0.1:1/x", "connect_timeout_seconds": 1, "pool_timeout_seconds": 1}


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP port that accepts connections and never answers: a database hung mid-handshake."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


def readyz(**settings: object) -> tuple[int, dict[str, object], float]:
    app = build_app(build(load_settings(packs="core,sql", pack={"sql": {"databases": {"main": DOWN}}}, **settings)))
    with TestClient(app) as client:
        started = time.monotonic()
        response = client.get("/readyz")
        return response.status_code, response.json(), time.monotonic() - started


def test_a_failing_pack_is_named_but_the_replica_stays_ready_by_default() -> None:
    status, body, _ = readyz()
    assert status == 200
    assert body["status"] == "degraded" and body["degraded"] == ["sql"]
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert checks["sql"]["ready"] is False and checks["sql"]["policy"] == "degraded"
    assert "database 'main'" in checks["sql"]["detail"]


def test_a_required_pack_takes_the_replica_out_of_service() -> None:
    status, body, _ = readyz(readiness={"packs": {"sql": "required"}})
    assert status == 503 and body["status"] == "not ready"
    status, body, _ = readyz(readiness={"default_policy": "required"})
    assert status == 503


def test_a_hung_check_answers_within_the_probe_timeout(silent_port: int) -> None:
    hung = {"url": f"postgresql://postgres@127.0.0.1:{silent_port}/x", "connect_timeout_seconds": 30}
    app = build_app(build(load_settings(packs="core,sql", pack={"sql": {"databases": {"main": hung}}},
                                        readiness={"packs": {"sql": "required"}})))  # fmt: skip
    with TestClient(app) as client:
        started = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["checks"]["sql"]["detail"] == "check timed out after 1s"
    assert elapsed < 2  # deploy/k8s probes give /readyz 2 s; the check's default bound is 1 s


def test_a_policy_for_a_pack_that_is_not_enabled_is_refused() -> None:
    with pytest.raises(ConfigError, match="readiness.packs.sqll: no enabled pack has this name"):
        build(
            load_settings(
                packs="core,sql", pack={"sql": {"databases": {"main": DOWN}}}, readiness={"packs": {"sqll": "required"}}
            )
        )
