"""Scale-out figures (issue 9): memory per idle legacy session, and throughput at 1 vs 2 workers.

    .venv/bin/python bench/scaleout.py                 # both; writes bench/results/scaleout.json
    .venv/bin/python bench/scaleout.py --sessions 2000 --duration 10

Sessions: a server is started, N legacy sessions are opened (initialize + initialized, never
deleted) and the server's RSS growth is divided by N; with `redis.url` the same is done for the
replica and Redis's own `MEMORY USAGE` of one session record is reported. Workers: the
2026-07-28 `tools/call echo` load of loadgen.py against `--workers 1` and `--workers 2` (both on
Redis, so sessions and limits would be shared), 32 connections. Needs the machine's Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from loadgen import run_load  # noqa: E402 - after the path setup above
from tests.conftest import free_port  # noqa: E402
from tests.wire import legacy_initialize  # noqa: E402

MCPCLOUD = str(Path(sys.executable).parent / "mcpcloud")
REDIS = "redis://127.0.0.1:6379/0"


def _start(*args: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MCPCLOUD_")} | env
    process = subprocess.Popen(
        [MCPCLOUD, "serve", "--port", str(port), *args],
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                return process, base + "/mcp"
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def _open_sessions(url: str, count: int) -> list[str]:
    headers, body = legacy_initialize()
    ids = []
    with httpx.Client(timeout=30) as client:
        for _ in range(count):
            response = client.post(url, json=body, headers=headers)
            session = response.headers["mcp-session-id"]
            client.post(
                url,
                json={"jsonrpc": "2.0", "method": "notifications/initialized"},
                headers={**headers, "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"},
            )
            ids.append(session)
    return ids


def measure_sessions(count: int) -> dict[str, object]:
    results: dict[str, object] = {"sessions": count}
    prefix = f"bench:sessions:{os.getpid()}:"
    for label, env in (
        ("in_process", {}),
        ("redis", {"MCPCLOUD_REDIS__URL": REDIS, "MCPCLOUD_REDIS__KEY_PREFIX": prefix}),
    ):
        process, url = _start("--packs", "core", env={**env, "MCPCLOUD_SESSIONS__MAX_PER_PRINCIPAL": str(count + 100)})
        try:
            _open_sessions(url, 20)  # warm caches and allocator before the baseline
            before = _rss_kib(process.pid)
            ids = _open_sessions(url, count)
            time.sleep(1)
            after = _rss_kib(process.pid)
            entry: dict[str, object] = {
                "rss_growth_kib": after - before,
                "kib_per_session": round((after - before) / count, 2),
            }
            if label == "redis":
                client = redis.Redis.from_url(REDIS)
                entry["redis_bytes_per_session"] = client.memory_usage(f"{prefix}session:{ids[0]}")
                keys = list(client.scan_iter(match=prefix + "*"))
                if keys:
                    client.delete(*keys)
            results[label] = entry
        finally:
            process.terminate()
            process.wait(30)
    return results


def measure_workers(duration: float, connections: int) -> dict[str, object]:
    results: dict[str, object] = {"connections": connections, "duration_s": duration}
    for workers in (1, 2):
        env = {"MCPCLOUD_REDIS__URL": REDIS, "MCPCLOUD_REDIS__KEY_PREFIX": f"bench:workers:{os.getpid()}:"}
        process, url = _start("--packs", "core", "--workers", str(workers), env=env)
        try:
            time.sleep(3)  # every worker up
            load = asyncio.run(run_load(url, "modern", connections, duration, warmup=2.0))
            results[f"workers_{workers}"] = {
                "rps": load["rps"],
                "p50_ms": load["latency_ms"]["p50"],
                "p99_ms": load["latency_ms"]["p99"],
                "errors": load["errors"],
            }
        finally:
            process.terminate()
            process.wait(60)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    report = {
        "sessions": measure_sessions(args.sessions),
        "workers": measure_workers(args.duration, args.connections),
        "cores": os.cpu_count(),
    }
    out = ROOT / "bench" / "results" / "scaleout.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
