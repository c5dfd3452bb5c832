"""bench/ cannot rot: the load generator drives a live mcpcloud on both protocol eras.

Not a timing test: it asserts the result's structure, zero errors, and that the generator
does report errors when the server answers wrongly. The figures live in bench/README.md.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest
from tests.conftest import ROOT, start_server

LOADGEN = ROOT / "bench" / "loadgen.py"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A server of its own: the legacy path opens and deletes sessions, which shared servers need not see."""
    server = start_server(tmp_path_factory.mktemp("bench"))
    yield server.url, server.process.pid
    server.stop()


def _loadgen(url: str, path: str, server_pid: int) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, str(LOADGEN), "--url", url, "--path", path, "--connections", "2", "--warmup", "0.2",
            "--duration", "1", "--server-pid", str(server_pid)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def _report_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "bench" / "report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", ["modern", "legacy"])
def test_loadgen_drives_mcpcloud_without_errors(live_server: tuple[str, int], path: str) -> None:
    url, pid = live_server
    completed = _loadgen(url, path, pid)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    result = json.loads(completed.stdout)

    assert (result["path"], result["connections"], result["url"]) == (path, 2, url)
    assert result["errors"] == 0 and result["warmup_errors"] == 0, result["error_samples"]
    assert result["requests"] > 0
    assert result["rps"] == pytest.approx(result["requests"] / result["duration_s"], rel=0.01)
    latency = result["latency_ms"]
    assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
    assert result["cpu"]["server_cpu_us_per_request"] > 0
    assert set(result["cpu"]["core_busy_share"]) >= {"cpu0"}

    # The report renders these figures (guards bench/report.py against the result shape drifting).
    document = {
        "machine": {"date_utc": "now", "cpu_model": "cpu", "cores": 2, "memory_gib": 1, "kernel": "k",
                    "python": "3", "packages": {"mcp": "2"}, "wrk": "none", "mcpcloud_git_rev": "rev",
                    "mcpcloud_git_dirty": False},
        "settings": {"duration_s": 1, "warmup_s": 0.2, "warmup_first_s": 0, "repeat": 1, "connections": [2],
                     "server_core": "0", "generator_core": "1"},
        "runs": [{**result, "target": "mcpcloud", "repetition": 1}],
        "wrk": [],
        "coldstart": {"runs": 0},
    }
    table = _report_module().render_markdown(document)
    assert f"| mcpcloud | {_report_module().PATH_TITLES[path]} | 2 |" in table


def test_loadgen_counts_wrong_answers_as_errors(live_server: tuple[str, int]) -> None:
    url, pid = live_server
    completed = _loadgen(url.removesuffix("/mcp") + "/not-mcp", "modern", pid)
    assert completed.returncode == 1
    result = json.loads(completed.stdout)
    assert result["errors"] > 0 and result["requests"] == 0
    assert result["error_samples"][0].startswith("HTTP 404")
