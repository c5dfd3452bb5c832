"""bench/ cannot rot: the load generator drives a live mcpcloud on both protocol eras.

Not a timing test: it asserts the result's structure, zero errors, and that the generator
does report errors when the server answers wrongly. The figures live in bench/README.md.
"""

from __future__ import annotations

import importlib
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


def _loadgen(
    url: str, path: str, server_pid: int, headers: dict[str, str] | None = None, duration: float = 1
) -> subprocess.CompletedProcess[str]:
    argv = [
        sys.executable,
        str(LOADGEN),
        "--url",
        url,
        "--path",
        path,
        "--connections",
        "2",
        "--warmup",
        "0.2",
        "--duration",
        str(duration),
        "--server-pid",
        str(server_pid),
    ]
    for name, value in (headers or {}).items():
        argv += ["--header", f"{name}: {value}"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def _bench_module(name: str) -> ModuleType:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(ROOT / "bench"))


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
        "machine": {
            "date_utc": "now",
            "cpu_model": "cpu",
            "cores": 2,
            "memory_gib": 1,
            "kernel": "k",
            "python": "3",
            "packages": {"mcp": "2"},
            "wrk": "none",
            "mcpcloud_git_rev": "rev",
            "mcpcloud_git_dirty": False,
        },
        "settings": {
            "duration_s": 1,
            "warmup_s": 0.2,
            "warmup_first_s": 0,
            "repeat": 1,
            "connections": [2],
            "server_core": "0",
            "generator_core": "1",
        },
        "runs": [{**result, "target": "mcpcloud", "repetition": 1}],
        "wrk": [],
        "coldstart": {"runs": 0},
    }
    table = _report_module().render_markdown(document)
    assert f"| mcpcloud, defaults | {_report_module().PATH_TITLES[path]} | 2 |" in table


def test_loadgen_counts_wrong_answers_as_errors(live_server: tuple[str, int]) -> None:
    url, pid = live_server
    completed = _loadgen(url.removesuffix("/mcp") + "/not-mcp", "modern", pid)
    assert completed.returncode == 1
    result = json.loads(completed.stdout)
    assert result["errors"] > 0 and result["requests"] == 0
    assert result["error_samples"][0].startswith("HTTP 404")


def test_production_pipeline_target_is_really_authenticated_and_rate_limited(tmp_path) -> None:
    """The production target's setup yields a server that refuses without the key and spends Redis budget with it."""
    env, headers = _bench_module("production").production_env(tmp_path / "prod")
    server = start_server(tmp_path, env=env)
    try:
        completed = _loadgen(server.url, "modern", server.process.pid, headers, duration=0.5)
        assert completed.returncode == 0, completed.stdout + completed.stderr
        assert json.loads(completed.stdout)["errors"] == 0
        # Every call went through the audit file and a Redis GCRA bucket under the target's own prefix.
        records = [json.loads(line) for line in (tmp_path / "prod" / "audit.log").read_text().splitlines()]
        assert records and {(r["tool"], r["outcome"], r["kind"]) for r in records} == {("echo", "ok", "api_key")}
        import redis

        client = redis.Redis.from_url(env["MCPCLOUD_REDIS__URL"])
        try:
            keys = client.keys(env["MCPCLOUD_REDIS__KEY_PREFIX"] + "*")
            assert keys, "no rate-limit bucket in Redis"
            client.delete(*keys)
        finally:
            client.close()

        refused = _loadgen(server.url, "modern", server.process.pid, duration=0.3)
        assert refused.returncode == 1
        assert json.loads(refused.stdout)["error_samples"][0].startswith("HTTP 401")
    finally:
        server.stop()
