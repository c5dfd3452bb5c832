"""Fixtures that run mcpcloud for real: as a subprocess on a free port, or over stdio."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from mcp import StdioServerParameters

ROOT = Path(__file__).resolve().parent.parent
MCPCLOUD = str(Path(sys.executable).parent / "mcpcloud")
CONNECT_MODES = ["auto", "legacy", "2026-07-28"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(**extra: str) -> dict[str, str]:
    """The environment for a server subprocess: this checkout importable, no stray MCPCLOUD_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCPCLOUD_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["MCPCLOUD_LOG__FORMAT"] = "json"
    env.update(extra)
    return env


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/mcp"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


def spawn_server(
    tmp_path: Path,
    *args: str,
    env: dict[str, str] | None = None,
    port: int | None = None,
    executable: str = MCPCLOUD,
    whole_env: dict[str, str] | None = None,
) -> RunningServer:
    """Start `mcpcloud serve --transport http` on `port` (default: a free one) without waiting for it.

    `executable` and `whole_env` (used as it is, instead of this checkout's server_env) run another
    installation of mcpcloud, as tests/test_install.py does.
    """
    port = port or free_port()
    log_path = tmp_path / f"server-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [executable, "serve", "--transport", "http", "--port", str(port), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=whole_env if whole_env is not None else server_env(**(env or {})),
        )
    return RunningServer(process, port, log_path)


def wait_ready(server: RunningServer, timeout: float = 30) -> RunningServer:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"mcpcloud exited with {server.process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.base_url}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    server.stop(signal.SIGKILL)
    raise RuntimeError(f"mcpcloud did not become ready:\n{server.log()}")


def start_server(
    tmp_path: Path,
    *args: str,
    env: dict[str, str] | None = None,
    ready_timeout: float = 30,
    executable: str = MCPCLOUD,
    whole_env: dict[str, str] | None = None,
) -> RunningServer:
    return wait_ready(spawn_server(tmp_path, *args, env=env, executable=executable, whole_env=whole_env), ready_timeout)


@pytest.fixture(scope="session")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One shared server with the default packs, for tests that only read."""
    server = start_server(tmp_path_factory.mktemp("http"), "--packs", "core,tests.packs.slow")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def conformance_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """`mcpcloud serve --transport http --packs core,conformance` with its defaults: what the suite judges."""
    server = start_server(tmp_path_factory.mktemp("conformance"), "--packs", "core,conformance")
    yield server
    server.stop()


def stdio_params(*args: str, **env: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=MCPCLOUD, args=["serve", "--transport", "stdio", *args], env=server_env(**env), cwd=str(ROOT)
    )
