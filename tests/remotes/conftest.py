"""Real remotes for the hybrid tests: a `mcpcloud serve --transport http` with API keys, and a
handshake-era-only server built on the SDK (legacy_server.py), each a subprocess on a free port."""

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
from typing import Any

import anyio
import pytest
from click.testing import CliRunner
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from tests.conftest import MCPCLOUD, RunningServer, free_port, server_env, spawn_server, stdio_params, wait_ready

from mcpcloud.cli import main

HERE = Path(__file__).resolve().parent


def create_api_key(keys_file: Path, scopes: str = "*") -> str:
    clean = {k: None for k in os.environ if k.startswith("MCPCLOUD_")}
    env = {**clean, "MCPCLOUD_AUTH__API_KEYS__FILE": str(keys_file)}
    result = CliRunner().invoke(main, ["keys", "create", "--name", "hybrid", "--scopes", scopes], env=env)
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


@dataclass
class CloudRemote:
    server: RunningServer
    key: str
    keys_file: Path

    @property
    def url(self) -> str:
        return self.server.url


def start_cloud(tmp_path: Path, port: int | None = None, key: str | None = None, packs: str = "core") -> CloudRemote:
    """The team's `mcpcloud serve --transport http`, API keys required."""
    keys_file = tmp_path / "remote-keys.json"
    key = key or create_api_key(keys_file)
    env = {
        "MCPCLOUD_AUTH__MODES": "api_keys",
        "MCPCLOUD_AUTH__API_KEYS__FILE": str(keys_file),
        "MCPCLOUD_HTTP__SHUTDOWN_GRACE_SECONDS": "1",
        "MCPCLOUD_PACKS": packs,
    }
    server = wait_ready(spawn_server(tmp_path, env=env, port=port))
    return CloudRemote(server, key, keys_file)


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[CloudRemote]:
    remote = start_cloud(tmp_path)
    yield remote
    remote.server.stop()


@pytest.fixture
def conformance_cloud(tmp_path: Path) -> Iterator[CloudRemote]:
    """A 2026-07-28-capable remote with the conformance fixtures: input_required rounds, list-change triggers."""
    remote = start_cloud(tmp_path, packs="core,conformance")
    yield remote
    remote.server.stop()


@dataclass
class LegacyRemote:
    port: int
    token_file: Path
    events: Path
    modern: bool = False
    list_ttl_ms: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self) -> LegacyRemote:
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "legacy_server.py"),
                "--port",
                str(self.port),
                "--token-file",
                str(self.token_file),
                "--events",
                str(self.events),
                *(["--modern"] if self.modern else []),
                "--list-ttl-ms",
                str(self.list_ttl_ms),
            ],
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "legacy server exited"
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise RuntimeError("legacy server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def event_lines(self) -> list[str]:
        return self.events.read_text().splitlines() if self.events.exists() else []


@pytest.fixture
def legacy(tmp_path: Path) -> Iterator[LegacyRemote]:
    yield from _sdk_remote(tmp_path, modern=False)


@pytest.fixture
def sdk_both_eras(tmp_path: Path) -> Iterator[LegacyRemote]:
    """The same SDK server speaking 2026-07-28 as well: list changes travel on subscriptions/listen."""
    yield from _sdk_remote(tmp_path, modern=True)


@pytest.fixture
def sdk_with_list_ttl(tmp_path: Path) -> Iterator[LegacyRemote]:
    """A 2026-07-28 SDK server whose tools/list says: cache me for 1.5 s."""
    yield from _sdk_remote(tmp_path, modern=True, list_ttl_ms=1500)


def _sdk_remote(tmp_path: Path, modern: bool, list_ttl_ms: int = 0) -> Iterator[LegacyRemote]:
    token_file = tmp_path / "legacy-token"
    token_file.write_text("first-token\n")
    remote = LegacyRemote(free_port(), token_file, tmp_path / "legacy-events.log", modern, list_ttl_ms).start()
    yield remote
    remote.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def http_client(url: str, headers: dict[str, str], mode: str = "legacy", **options: Any) -> Client:
    """The SDK client over Streamable HTTP, sending `headers` on every request (`options`: e.g. callbacks)."""
    transport = streamable_http_client(url, http_client=create_mcp_http_client(headers=headers))
    return Client(transport, mode=mode, **options)


def hybrid_params(tmp_path: Path, config: str, *args: str, **env: str) -> StdioServerParameters:
    """`mcpcloud serve --transport stdio` with `config` as its TOML file and its own state dir."""
    path = tmp_path / f"hybrid-{time.monotonic_ns()}.toml"
    path.write_text(config)
    return stdio_params("--config", str(path), *args, MCPCLOUD_STATE_DIR=str(tmp_path / "state"), **env)


def toml_remote(name: str, url: str, **fields: str) -> str:
    lines = [f"[remotes.{name}]", f'url = "{url}"']
    lines += [f"{key} = {value}" for key, value in fields.items()]
    return "\n".join(lines) + "\n"


async def approve_remote(tmp_path: Path, params: StdioServerParameters, name: str) -> subprocess.CompletedProcess[str]:
    """`mcpcloud remotes approve NAME --yes` against the config and state dir of a `hybrid_params` server."""
    config = params.args[params.args.index("--config") + 1]
    return await anyio.to_thread.run_sync(
        lambda: subprocess.run(
            [MCPCLOUD, "remotes", "approve", name, "--yes", "--config", config],
            capture_output=True,
            text=True,
            check=False,
            env=server_env(MCPCLOUD_STATE_DIR=str(tmp_path / "state")),
            timeout=60,
        )
    )
