"""Fixtures for the observability tests: real mcpcloud processes, metric scrapes, Prometheus."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[2]
MCPCLOUD = str(Path(sys.executable).with_name("mcpcloud"))
STARTUP_DEADLINE_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServerProcess:
    """One `mcpcloud serve --transport http` child process on a free port."""

    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    extra_ports: dict[str, int] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/mcp"

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_server(tmp_path: Path, env: dict[str, str] | None = None, name: str = "server") -> ServerProcess:
    port = free_port()
    log_path = tmp_path / f"{name}.log"
    child_env = {**os.environ, "MCPCLOUD_LOG__FORMAT": "json", **(env or {})}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [MCPCLOUD, "serve", "--transport", "http", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=child_env,
            cwd=tmp_path,
        )
    server = ServerProcess(port=port, process=process, log_path=log_path)
    deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mcpcloud exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{server.base}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"mcpcloud did not start:\n{log_path.read_text()}")


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[callable]:
    started: list[ServerProcess] = []

    def make(env: dict[str, str] | None = None, name: str = "server") -> ServerProcess:
        server = start_server(tmp_path, env, name)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def scrape(url: str, headers: dict[str, str] | None = None) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a /metrics page, keyed by (sample name, labels)."""
    response = httpx.get(url, headers=headers, timeout=10)
    response.raise_for_status()
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def sample(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="session")
def prometheus_binaries() -> tuple[str, str]:
    """`prometheus` and `promtool`, installed through the project's make target when missing."""
    if not (shutil.which("prometheus") and shutil.which("promtool")):
        result = subprocess.run(
            ["make", "-s", "prometheus"], cwd=REPO, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        if result.returncode != 0:
            message = f"cannot install prometheus: {result.stdout}{result.stderr}"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
    return shutil.which("prometheus"), shutil.which("promtool")  # type: ignore[return-value]


def modern_tool_call(
    url: str, tool: str, arguments: dict, *, request_id: int = 1, headers: dict | None = None, meta: dict | None = None
) -> httpx.Response:
    """One stateless 2026-07-28 `tools/call`, as a gateway or a non-SDK client would send it."""
    envelope = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "obs-test", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {},
        **(meta or {}),
    }
    body = {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments, "_meta": envelope},
    }
    wire_headers = {
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "tools/call",
        "mcp-name": tool,
        **(headers or {}),
    }
    return httpx.post(url, json=body, headers=wire_headers, timeout=10)
