"""The official MCP conformance suite against `mcpcloud serve --transport http --packs core,conformance`.

Every scenario a requirement set scores must pass, except the ones listed (with the
SDK limitation that explains them) in tests/conformance/expected-failures.toml; a
listed scenario that starts passing fails the test too. Scenarios the suite runs but
does not score (extensions, pending ones) are reported and never decide the outcome.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conformance_suite import REQUIREMENT_SETS, Suite, SuiteError, expected_failures, install, judge

pytestmark = pytest.mark.conformance

MCPCLOUD = str(Path(sys.executable).parent / "mcpcloud")


@pytest.fixture(scope="module")
def suite() -> Suite:
    try:
        return install()
    except SuiteError as exc:
        pytest.fail(f"cannot install the conformance suite: {exc}")


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_path = tmp_path_factory.mktemp("conformance-server") / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [MCPCLOUD, "serve", "--transport", "http", "--port", str(port), "--packs", "core,conformance"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        _wait_ready(process, f"http://127.0.0.1:{port}/readyz", log_path)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_ready(process: subprocess.Popen[bytes], readyz: str, log_path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mcpcloud exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            if httpx.get(readyz, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail(f"mcpcloud did not become ready:\n{log_path.read_text(errors='replace')}")


@pytest.mark.parametrize("requirements", REQUIREMENT_SETS)
def test_every_scored_scenario_passes(suite: Suite, server_url: str, requirements: str, tmp_path: Path) -> None:
    scored = suite.scored_server_scenarios(requirements)
    run = suite.run(server_url, requirements, tmp_path / "results")
    verdict = judge(run, scored, expected_failures(requirements))
    print(verdict.report())  # shown with -s, and by pytest on failure
    assert verdict.ok, f"{verdict.report()}\n\nsuite output (tail):\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}"
