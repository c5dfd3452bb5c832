"""A real Prometheus scrapes a real mcpcloud; the alert rules pass promtool's check and unit tests."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp import Client
from obs_helpers import REPO, free_port

OBSERVABILITY = REPO / "deploy" / "observability"
ALERTS = [
    line.split(":", 1)[1].strip()
    for line in (OBSERVABILITY / "alerts.yml").read_text().splitlines()
    if line.strip().startswith("- alert:")
]
QUERY_DEADLINE_SECONDS = 60.0


def test_alert_rules_pass_promtool_check(prometheus_binaries) -> None:
    _, promtool = prometheus_binaries
    result = subprocess.run(
        [promtool, "check", "rules", str(OBSERVABILITY / "alerts.yml")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in result.stdout


def test_alert_rules_pass_their_unit_tests(prometheus_binaries) -> None:
    _, promtool = prometheus_binaries
    result = subprocess.run(
        [promtool, "test", "rules", "alerts.test.yml"], cwd=OBSERVABILITY, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_a_runbook_entry() -> None:
    operations = (REPO / "docs" / "OPERATIONS.md").read_text()
    assert "McpCloudSharedStateUnavailable" in ALERTS and len(ALERTS) == 7
    for alert in ALERTS:
        assert f"### {alert}" in operations, f"docs/OPERATIONS.md has no runbook for {alert}"


class Prometheus:
    def __init__(self, binary: str, workdir: Path, target_port: int) -> None:
        self.port = free_port()
        config = workdir / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            f"rule_files:\n  - {OBSERVABILITY / 'alerts.yml'}\n"
            "scrape_configs:\n  - job_name: mcpcloud\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n"
        )
        self.log = (workdir / "prometheus.log").open("wb")
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.api = f"http://127.0.0.1:{self.port}/api/v1"

    def query(self, expr: str) -> dict:
        response = httpx.get(f"{self.api}/query", params={"query": expr}, timeout=10)
        body = response.json()
        assert body["status"] == "success", f"{expr}: {body}"
        return body["data"]

    def wait_for(self, expr: str, expected: float) -> list[dict]:
        """Poll until `expr` returns `expected` (scrapes are asynchronous); fails after the deadline."""
        deadline = time.monotonic() + QUERY_DEADLINE_SECONDS
        result: list[dict] = []
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "prometheus exited"
            try:
                result = self.query(expr)["result"]
            except (httpx.TransportError, ValueError):  # not listening yet, or still starting up
                result = []
            if result and float(result[0]["value"][1]) == expected:
                return result
            time.sleep(0.2)
        raise AssertionError(f"{expr} never became {expected}; last: {result}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture
def prometheus_for(prometheus_binaries, tmp_path) -> Iterator:
    started: list[Prometheus] = []

    def start(target_port: int) -> Prometheus:
        prometheus = Prometheus(prometheus_binaries[0], tmp_path, target_port)
        started.append(prometheus)
        return prometheus

    yield start
    for prometheus in started:
        prometheus.stop()


async def test_a_real_prometheus_scrapes_mcpcloud(server_factory, prometheus_for) -> None:
    server = server_factory()
    async with Client(server.url) as client:
        for _ in range(3):
            await client.call_tool("echo", {"message": "scraped"})
        await client.call_tool("get_time", {"timezone": "Not/AZone"})
    prometheus = prometheus_for(server.port)

    prometheus.wait_for('up{job="mcpcloud"}', 1)
    prometheus.wait_for('mcpcloud_mcp_requests_total{job="mcpcloud",tool="echo",outcome="ok"}', 3)
    prometheus.wait_for('mcpcloud_mcp_requests_total{tool="get_time",outcome="tool_error"}', 1)
    prometheus.wait_for('mcpcloud_mcp_request_duration_seconds_count{tool="echo"}', 3)
    prometheus.wait_for('mcpcloud_ready{job="mcpcloud"}', 1)
    [build] = prometheus.query("mcpcloud_build_info")["result"]
    assert "2026-07-28" in build["metric"]["protocol_versions"]

    # The rules load and evaluate in a real Prometheus, not only in promtool.
    groups = httpx.get(f"{prometheus.api}/rules", timeout=10).json()["data"]["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) == len(ALERTS) and all(rule["health"] in ("ok", "unknown") for rule in rules), rules

    # Every dashboard query parses and runs (Grafana's variables filled in the way Grafana would).
    dashboard = json.loads((OBSERVABILITY / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 15
    for expr in exprs:
        prometheus.query(expr.replace("$__rate_interval", "1m").replace("$job", ".*"))
    answered = prometheus.query(
        'sum by (tool) (mcpcloud_mcp_requests_total{job=~".*",method="tools/call",outcome="ok"})'
    )["result"]
    assert {r["metric"]["tool"]: float(r["value"][1]) for r in answered}.get("echo") == 3
