"""Closed-loop load generator: N keep-alive connections, each with one tools/call in flight.

    python bench/loadgen.py --url http://127.0.0.1:8000/mcp --path modern --connections 32 \
        --warmup 1 --duration 5

prints one JSON object: requests, errors, requests/s and latency percentiles of the
measured window only (the warm-up is discarded). Latency is send-to-last-byte per request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cpu import CpuWindow
from http1 import Http1Connection, Response
from scenarios import SCENARIOS, EchoSession, echo_error

MAX_ERROR_SAMPLES = 5


@dataclass
class Window:
    """Which phase the run is in; requests completing while `measuring` are counted."""

    measuring: bool = False
    stopped: bool = False
    latencies_ns: list[int] = field(default_factory=list)
    errors: int = 0
    warmup_errors: int = 0
    error_samples: list[str] = field(default_factory=list)

    def error(self, description: str) -> None:
        self.errors += 1
        if len(self.error_samples) < MAX_ERROR_SAMPLES:
            self.error_samples.append(description)


async def _connect(url: str, path_kind: str, headers: dict[str, str]) -> tuple[Http1Connection, EchoSession]:
    parts = urlsplit(url)
    conn = await Http1Connection.open(parts.hostname or "127.0.0.1", parts.port or 80)
    session = SCENARIOS[path_kind](conn, parts.netloc, parts.path or "/", headers)
    try:
        await session.open()
    except BaseException:
        conn.close()
        raise
    return conn, session


async def _drive(conn: Http1Connection, session: EchoSession, window: Window) -> None:
    def on_response(response: Response, elapsed_ns: int) -> bool:
        if window.measuring:
            problem = echo_error(response)
            if problem is None:
                window.latencies_ns.append(elapsed_ns)
            else:
                window.error(problem)
        elif echo_error(response) is not None and not window.stopped:
            window.warmup_errors += 1
        return not window.stopped

    try:
        await conn.loop(session.next_request, on_response)
        await session.close()
    finally:
        conn.close()


def percentile(sorted_values: list[int], fraction: float) -> float | None:
    """Nearest-rank percentile, in milliseconds (None when nothing succeeded)."""
    if not sorted_values:
        return None
    rank = max(1, round(fraction * len(sorted_values)))
    return round(sorted_values[min(rank, len(sorted_values)) - 1] / 1e6, 3)


async def run_load(
    url: str,
    path_kind: str,
    connections: int,
    duration: float,
    warmup: float,
    server_pid: int | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run the load and return the measured window's figures."""
    window = Window()
    # Every connection is open (and, on the legacy path, initialized) before the clock runs.
    opened = await asyncio.gather(
        *[_connect(url, path_kind, headers or {}) for _ in range(connections)], return_exceptions=True
    )
    failures = [item for item in opened if isinstance(item, BaseException)]
    if failures:
        for item in opened:
            if not isinstance(item, BaseException):
                item[0].close()
        raise failures[0]
    tasks = [asyncio.create_task(_drive(conn, session, window)) for conn, session in opened]  # type: ignore[misc]
    try:
        await asyncio.sleep(warmup)
        cpu = CpuWindow(server_pid)
        cpu.start()
        window.measuring = True
        started = time.perf_counter()
        await asyncio.sleep(duration)
        window.measuring = False
        measured = time.perf_counter() - started
        cpu_report = cpu.stop(measured, len(window.latencies_ns))
        window.stopped = True
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
    finally:
        for task in tasks:
            task.cancel()
    latencies = sorted(window.latencies_ns)
    completed = len(latencies)
    return {
        "url": url,
        "path": path_kind,
        "connections": connections,
        "warmup_s": warmup,
        "duration_s": round(measured, 3),
        "requests": completed,
        "errors": window.errors,
        "warmup_errors": window.warmup_errors,
        "error_samples": window.error_samples,
        "rps": round(completed / measured, 1),
        "latency_ms": {
            "p50": percentile(latencies, 0.50),
            "p90": percentile(latencies, 0.90),
            "p99": percentile(latencies, 0.99),
            "max": percentile(latencies, 1.0),
            "mean": round(sum(latencies) / completed / 1e6, 3) if completed else None,
        },
        "cpu": cpu_report,
    }


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="MCP endpoint, e.g. http://127.0.0.1:8000/mcp")
    parser.add_argument(
        "--path",
        choices=sorted(SCENARIOS),
        default="modern",
        help="modern: 2026-07-28 stateless; legacy: 2025-11-25 session per connection",
    )
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of load before measuring")
    parser.add_argument("--server-pid", type=int, help="server process to account CPU for (Linux)")
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="NAME:VALUE",
        help="extra header on every request (repeatable), e.g. an API key",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    headers = dict(item.split(":", 1) for item in args.header)
    headers = {name.strip(): value.strip() for name, value in headers.items()}
    coroutine = run_load(args.url, args.path, args.connections, args.duration, args.warmup, args.server_pid, headers)
    try:
        import uvloop

        result = uvloop.run(coroutine)
    except ImportError:
        result = asyncio.run(coroutine)
    json.dump(result, sys.stdout, allow_nan=False)
    sys.stdout.write("\n")
    ok = result["errors"] == 0 and result["warmup_errors"] == 0 and result["requests"] > 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
