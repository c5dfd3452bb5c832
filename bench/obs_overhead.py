"""What metrics, the access log and tracing cost on `tools/call echo`.

Two measurements:

1. end to end: an `mcpcloud serve` process per configuration, driven by a closed loop of
   stateless 2026-07-28 `tools/call echo` requests from httpx (CONCURRENCY connections) in
   this process; requests/s, configurations interleaved over several rounds, median kept;
2. per stage: the pipeline stages alone around a no-op `call_next`, in process, in ns per
   request — the number the end-to-end figure is too noisy to resolve.

Usage: .venv/bin/python bench/obs_overhead.py [--seconds 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "observability"))
from obs_helpers import start_server  # noqa: E402

CONCURRENCY = 16
OFF = "false"
CONFIGURATIONS = {
    "bare (metrics off, access log off, tracing off)": {
        "MCPCLOUD_OBSERVABILITY__METRICS__ENABLED": OFF,
        "MCPCLOUD_OBSERVABILITY__ACCESS_LOG": OFF,
    },
    "metrics on, access log off, tracing off": {"MCPCLOUD_OBSERVABILITY__ACCESS_LOG": OFF},
    "metrics on, access log on, tracing off (the default)": {},
    "metrics on, access log on, tracing on, sampler always_off": {
        "MCPCLOUD_OBSERVABILITY__TRACING__ENABLED": "true",
        "OTEL_TRACES_SAMPLER": "always_off",
    },
}
BODY = (
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"},'
    b'"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
    b'"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1"},'
    b'"io.modelcontextprotocol/clientCapabilities":{}}}}'
)
HEADERS = {
    "content-type": "application/json",
    "accept": "application/json, text/event-stream",
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": "tools/call",
    "mcp-name": "echo",
}


async def closed_loop(url: str, seconds: float) -> int:
    """Requests completed by CONCURRENCY workers in `seconds`."""
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        done = 0
        stop_at = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop_at:
                response = await client.post(url, content=BODY, headers=HEADERS)
                assert response.status_code == 200 and b'"isError":false' in response.content, response.text
                done += 1

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return done


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc; Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def end_to_end(seconds: float, rounds: int, workdir: Path) -> dict[str, tuple[float, float]]:
    """Per configuration: median requests/s and median server CPU µs per request."""
    rates: dict[str, list[float]] = {name: [] for name in CONFIGURATIONS}
    costs: dict[str, list[float]] = {name: [] for name in CONFIGURATIONS}
    for _ in range(rounds):
        for name, env in CONFIGURATIONS.items():
            server = start_server(workdir, {**env, "MCPCLOUD_LOG__LEVEL": "INFO"}, name="bench")
            try:
                asyncio.run(closed_loop(server.url, 1.0))  # warm-up
                cpu_before, started = cpu_seconds(server.process.pid), time.perf_counter()
                done = asyncio.run(closed_loop(server.url, seconds))
                elapsed, cpu = time.perf_counter() - started, cpu_seconds(server.process.pid) - cpu_before
            finally:
                server.stop()
            rates[name].append(done / elapsed)
            costs[name].append(cpu / done * 1e6)
    return {name: (statistics.median(rates[name]), statistics.median(costs[name])) for name in CONFIGURATIONS}


STAGES = ("none", "metrics", "log-context", "metrics+log-context", "sdk-otel-noop")


def per_stage(stage_name: str, iterations: int) -> float:
    """ns per request of one stage (or `none`) around a no-op `call_next`, in process."""
    from mcp.server._otel import OpenTelemetryMiddleware
    from mcp.server.context import ServerRequestContext

    from mcpcloud.config import load_settings
    from mcpcloud.pipeline.log_context import LogContext
    from mcpcloud.pipeline.metrics import MetricsStage
    from mcpcloud.server import build

    server = build(load_settings(packs="core"))
    result = {"content": [], "isError": False}

    async def tool(_: object) -> dict:
        return result

    ctx = ServerRequestContext(
        session=None,  # type: ignore[arg-type]
        lifespan_context={},
        protocol_version="2026-07-28",
        method="tools/call",
        params={"name": "echo", "arguments": {"message": "hi"}},
        request_id=1,
    )
    chain = tool
    stages = {"metrics": [MetricsStage(server.registry)], "log-context": [LogContext(server.engine.identity)]}
    stages["metrics+log-context"] = stages["metrics"] + stages["log-context"]
    # What tracing-off would cost had we kept the SDK's span middleware (no tracer provider set).
    stages["sdk-otel-noop"] = [OpenTelemetryMiddleware()]

    def wrap(stage: Any, inner: Any) -> Any:
        return lambda c: stage(c, inner)

    for stage in reversed(stages.get(stage_name, [])):
        chain = wrap(stage, chain)

    async def run() -> float:
        started = time.perf_counter_ns()
        for _ in range(iterations):
            await chain(ctx)
        return (time.perf_counter_ns() - started) / iterations

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stage", choices=STAGES, help="only time this stage in process (for callgrind)")
    parser.add_argument("--iterations", type=int, default=100_000)
    args = parser.parse_args()
    if args.stage:
        print(f"{args.stage}: {per_stage(args.stage, args.iterations):.0f} ns per request")
        return
    import tempfile

    cpu = subprocess.run(
        ["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True
    )
    print(
        f"machine: {cpu.stdout.strip()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
        f"Python {platform.python_version()}; mcp {version('mcp')}, uvicorn {version('uvicorn')}, "
        f"prometheus-client {version('prometheus-client')}, opentelemetry-sdk {version('opentelemetry-sdk')}"
    )
    with tempfile.TemporaryDirectory() as workdir:
        results = end_to_end(args.seconds, args.rounds, Path(workdir))
    bare_rate, bare_cost = next(iter(results.values()))
    print(f"end to end, {CONCURRENCY} connections, median of {args.rounds} rounds of {args.seconds:g}s:")
    for name, (rate, cost) in results.items():
        print(
            f"  {name}: {rate:,.0f} req/s ({(rate / bare_rate - 1) * 100:+.1f}%), "
            f"server CPU {cost:,.0f} µs/request ({cost - bare_cost:+,.0f} µs)"
        )


if __name__ == "__main__":
    main()
