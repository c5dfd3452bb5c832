"""/metrics of a real mcpcloud process, driven by the SDK's `mcp.Client` over HTTP in both eras."""

from __future__ import annotations

import json

import httpx
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from obs_helpers import sample, scrape

REQUESTS = "mcpcloud_mcp_requests_total"
DURATION_COUNT = "mcpcloud_mcp_request_duration_seconds_count"


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_requests_are_counted_by_method_tool_and_outcome(server_factory, mode: str) -> None:
    server = server_factory()
    async with Client(server.url, mode=mode) as client:
        for _ in range(3):
            assert (await client.call_tool("echo", {"message": "hi"})).is_error is False
        assert (await client.call_tool("get_time", {"timezone": "Mars/Olympus"})).is_error is True
        assert (await client.call_tool("no_such_tool", {})).is_error is True
        with pytest.raises(MCPError):
            await client.read_resource("file:///not/served")
        await client.list_tools()

    samples = scrape(f"{server.base}/metrics")
    assert sample(samples, REQUESTS, method="tools/call", tool="echo", outcome="ok") == 3
    assert sample(samples, REQUESTS, method="tools/call", tool="echo", outcome="tool_error") == 0
    assert sample(samples, REQUESTS, method="tools/call", tool="get_time", outcome="tool_error") == 1
    # A tool name the server does not have is one series, whatever the client sends.
    assert sample(samples, REQUESTS, method="tools/call", tool="unknown", outcome="tool_error") == 1
    assert not any(dict(labels).get("tool") == "no_such_tool" for _, labels in samples)
    assert sample(samples, REQUESTS, method="resources/read", tool="", outcome="protocol_error") == 1
    assert sample(samples, REQUESTS, method="tools/list", tool="", outcome="ok") >= 1  # the client lists too
    assert sample(samples, DURATION_COUNT, method="tools/call", tool="echo") == 3
    assert sample(samples, "mcpcloud_mcp_requests_in_flight", method="tools/call") == 0
    first_method = "initialize" if mode == "legacy" else "server/discover"
    assert sample(samples, REQUESTS, method=first_method, tool="", outcome="ok") == 1
    build = [dict(labels) for name, labels in samples if name == "mcpcloud_build_info"]
    assert (
        len(build) == 1 and "2026-07-28" in build[0]["protocol_versions"] and build[0]["sdk_version"].startswith("2.3")
    )
    assert sample(samples, "mcpcloud_ready") == 1


async def test_latency_buckets_resolve_sub_millisecond_to_a_minute(server_factory) -> None:
    server = server_factory()
    async with Client(server.url) as client:
        await client.call_tool("echo", {"message": "x"})
    samples = scrape(f"{server.base}/metrics")
    bounds = sorted(
        float(dict(labels)["le"])
        for name, labels in samples
        if name == "mcpcloud_mcp_request_duration_seconds_bucket" and dict(labels).get("tool") == "echo"
    )
    assert bounds[0] <= 0.0001 and 60 <= bounds[-2] < bounds[-1] == float("inf")
    assert len(bounds) >= 15


def test_http_routes_other_than_mcp_are_counted(server_factory) -> None:
    server = server_factory()
    for _ in range(2):
        assert httpx.get(f"{server.base}/healthz").status_code == 200
    assert httpx.get(f"{server.base}/no/such/page").status_code == 404
    samples = scrape(f"{server.base}/metrics")
    http = "mcpcloud_http_requests_total"
    assert sample(samples, http, route="/healthz", method="GET", status="200") >= 2
    # Unknown paths share one route label, so scanners cannot add series.
    assert sample(samples, http, route="other", method="GET", status="404") == 1
    assert not any(dict(labels).get("route") == "/no/such/page" for _, labels in samples)
    assert not any(dict(labels).get("route") == "/mcp" for _, labels in samples)


def test_request_id_is_returned_and_a_forged_one_is_replaced(server_factory) -> None:
    server = server_factory()
    kept = httpx.get(f"{server.base}/healthz", headers={"X-Request-ID": "abc-123.trace:7"})
    assert kept.headers["x-request-id"] == "abc-123.trace:7"
    forged = httpx.get(f"{server.base}/healthz", headers={"X-Request-ID": 'x", "level": "critical'})
    assert forged.headers["x-request-id"] != 'x", "level": "critical'
    assert len(forged.headers["x-request-id"]) == 32
    assert httpx.get(f"{server.base}/healthz").headers["x-request-id"] != forged.headers["x-request-id"]


def test_access_log_line_keeps_its_exact_json_layout(server_factory) -> None:
    """One JSON object per request, byte for byte what `json.dumps` writes (log shippers may match on it)."""
    server = server_factory()
    answered = httpx.get(f"{server.base}/nowhere", headers={"X-Request-ID": "layout-1"})
    assert answered.status_code == 404
    server.stop()
    lines = [line for line in server.log_lines() if '"layout-1"' in line and '"http request"' in line]
    assert len(lines) == 1, server.log_lines()[-20:]
    record = json.loads(lines[0])
    assert lines[0] == json.dumps(record)
    assert (record["path"], record["status"], record["method"], record["level"]) == ("/nowhere", 404, "GET", "info")


def test_metrics_behind_a_bearer_token(server_factory, tmp_path) -> None:
    token_file = tmp_path / "metrics-token"
    token_file.write_text("s3cret-metrics-token\n")
    server = server_factory({"MCPCLOUD_OBSERVABILITY__METRICS__BEARER_TOKEN_FILE": str(token_file)})
    refused = httpx.get(f"{server.base}/metrics")
    assert refused.status_code == 401
    assert "Bearer" in refused.headers["www-authenticate"] and "metrics token" in refused.json()["message"]
    assert httpx.get(f"{server.base}/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    good = httpx.get(f"{server.base}/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"})
    assert good.status_code == 200 and "mcpcloud_build_info" in good.text
    assert "s3cret-metrics-token" not in server.log_path.read_text()
    assert httpx.get(f"{server.base}/healthz").status_code == 200  # refusals left it healthy


async def test_metrics_on_a_separate_port(server_factory) -> None:
    from obs_helpers import free_port

    metrics_port = free_port()
    server = server_factory({"MCPCLOUD_OBSERVABILITY__METRICS__PORT": str(metrics_port)})
    async with Client(server.url) as client:
        await client.call_tool("echo", {"message": "hi"})
    assert httpx.get(f"{server.base}/metrics").status_code == 404
    samples = scrape(f"http://127.0.0.1:{metrics_port}/metrics")
    assert sample(samples, REQUESTS, method="tools/call", tool="echo", outcome="ok") == 1
    assert server.stop() == 0


def test_metrics_can_be_switched_off(server_factory) -> None:
    server = server_factory({"MCPCLOUD_OBSERVABILITY__METRICS__ENABLED": "false"})
    assert httpx.get(f"{server.base}/metrics").status_code == 404


def test_two_processes_sharing_a_multiprocess_dir_add_up(server_factory, tmp_path) -> None:
    """mcpcloud has no --workers; this is the case of several processes behind one scrape target."""
    shared = tmp_path / "prom-multiproc"
    shared.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared)}
    first, second = server_factory(env, name="first"), server_factory(env, name="second")

    async def call(server, times: int) -> None:
        async with Client(server.url) as client:
            for _ in range(times):
                await client.call_tool("echo", {"message": "hi"})

    import anyio

    anyio.run(call, first, 3)
    anyio.run(call, second, 2)
    for server in (first, second):
        samples = scrape(f"{server.base}/metrics")
        assert sample(samples, REQUESTS, method="tools/call", tool="echo", outcome="ok") == 5
        assert sample(samples, DURATION_COUNT, method="tools/call", tool="echo") == 5
    assert second.stop() == 0
    # A stopped process's counts stay (counters never go back), its live gauges go.
    samples = scrape(f"{first.base}/metrics")
    assert sample(samples, REQUESTS, method="tools/call", tool="echo", outcome="ok") == 5


def test_metrics_token_is_redacted_and_bad_settings_are_named(tmp_path) -> None:
    import os
    import subprocess

    from obs_helpers import MCPCLOUD

    env = {**os.environ, "MCPCLOUD_OBSERVABILITY__METRICS__BEARER_TOKEN": "tok-visible-nowhere"}
    shown = subprocess.run([MCPCLOUD, "config"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "tok-visible-nowhere" not in shown.stdout + shown.stderr
    assert '"bearer_token": "**********"' in shown.stdout

    bad = {**os.environ, "MCPCLOUD_OBSERVABILITY__METRICS__PORT": "0"}
    refused = subprocess.run([MCPCLOUD, "config"], env=bad, capture_output=True, text=True, cwd=tmp_path)
    assert refused.returncode == 2
    assert "observability.metrics.port" in refused.stderr and "MCPCLOUD_OBSERVABILITY__METRICS__PORT" in refused.stderr
