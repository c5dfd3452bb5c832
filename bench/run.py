"""Runs the whole benchmark and writes bench/results/latest.json and latest.md.

    python bench/run.py                 # what `make bench` runs (~5 minutes on a busy 2-core machine)
    python bench/run.py --quick         # one short repetition of everything, to try changes

Each server is pinned to core 0 (`taskset -c 0`), the generator and wrk to core 1. For each
target, path and connection count: a warm-up, then `--repeat` fixed-duration repetitions
(each with its own short warm-up). wrk cross-checks the 2026-07-28 figures; the stdio cold
start and a py-spy profile of mcpcloud's 2026-07-28 path follow.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import fastmcp_target
from machine import describe_machine
from pinning import GENERATOR_CORE, SERVER_CORE, on_core
from production import production_env
from report import render_markdown

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
PYTHON = sys.executable


@dataclass(frozen=True)
class Target:
    name: str
    title: str
    command: tuple[str, ...]
    paths: tuple[str, ...]
    connections: tuple[int, ...] | None = None  # None: every count asked for; what-if variants run at 32 only
    setup: Callable[[Path], tuple[dict[str, str], dict[str, str]]] | None = None
    """Given a scratch folder: extra environment for the server, extra headers for every request."""
    env: dict[str, str] = field(default_factory=dict)
    install: Callable[[], None] | None = None

    def argv(self, port: int) -> list[str]:
        return [*self.command, "--port", str(port)]


def _mcpcloud() -> str:
    beside = Path(PYTHON).with_name("mcpcloud")
    return str(beside) if beside.exists() else "mcpcloud"


SDK_SERVER = (PYTHON, str(BENCH / "targets" / "sdk_server.py"))
MCPCLOUD_HTTP = (_mcpcloud(), "serve", "--transport", "http")
TARGETS = (
    Target("bare", "bare ASGI app on uvicorn (ceiling)", (PYTHON, str(BENCH / "targets" / "bare_app.py")), ("modern",)),
    # fastmcp (TypeScript SDK 1.x underneath) speaks the handshake era only: its figures are the 2025-11-25 path.
    Target(
        "fastmcp-ts",
        "TypeScript fastmcp, three tools, stateful",
        fastmcp_target.http_command(),
        ("legacy",),
        install=fastmcp_target.ensure_installed,
    ),
    Target("sdk", "SDK alone (MCPServer.streamable_http_app)", SDK_SERVER, ("modern", "legacy")),
    Target("mcpcloud", "mcpcloud serve --transport http", MCPCLOUD_HTTP, ("modern", "legacy")),
    Target(
        "mcpcloud-prod",
        "mcpcloud, production pipeline (API key, Redis rate limit, metrics, audit file)",
        MCPCLOUD_HTTP,
        ("modern", "legacy"),
        setup=production_env,
    ),
    # The same two with the fast path off: what the SDK's per-request machinery costs inside mcpcloud.
    Target(
        "mcpcloud-sdkpath",
        "mcpcloud, defaults, fast path off",
        MCPCLOUD_HTTP,
        ("modern",),
        env={"MCPCLOUD_HTTP__FAST_PATH": "false"},
    ),
    Target(
        "mcpcloud-prod-sdkpath",
        "mcpcloud, production pipeline, fast path off",
        MCPCLOUD_HTTP,
        ("modern",),
        setup=production_env,
        env={"MCPCLOUD_HTTP__FAST_PATH": "false"},
    ),
    # What-if variants of the SDK alone, for "Where the time goes".
    Target("sdk-async", "SDK alone, echo as async def", (*SDK_SERVER, "--async-tool"), ("modern",), (32,)),
    Target(
        "sdk-async-json",
        "SDK alone, async echo, json_response=True",
        (*SDK_SERVER, "--async-tool", "--json-response"),
        ("modern",),
        (32,),
    ),
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not listen on {port} within {timeout}s")


@dataclass
class Served:
    url: str
    pid: int
    headers: dict[str, str]


@contextmanager
def pinned_server(target: Target, log_dir: Path) -> Iterator[Served]:
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    if target.install is not None:
        target.install()
    env, headers = target.setup(log_dir / target.name) if target.setup is not None else ({}, {})
    # No stray MCPCLOUD_* settings from the caller: the figures are the target's own configuration.
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("MCPCLOUD_")}
    with open(log_dir / f"{target.name}.log", "wb") as log:
        process = subprocess.Popen(
            [*on_core(SERVER_CORE), *target.argv(port)],
            stdout=log,
            stderr=log,
            cwd=ROOT,
            env={**base_env, **target.env, **env},
        )
        try:
            wait_for_port(port, process)
            yield Served(f"http://127.0.0.1:{port}/mcp", process.pid, headers)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def memory(pid: int) -> dict[str, float]:
    """Resident set size now and at its peak (VmHWM), MiB."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mib": fields.get("VmRSS", 0.0), "peak_rss_mib": fields.get("VmHWM", 0.0)}


def loadgen(served: Served, path: str, connections: int, duration: float, warmup: float) -> dict:
    argv = [
        *on_core(GENERATOR_CORE),
        PYTHON,
        str(BENCH / "loadgen.py"),
        "--url",
        served.url,
        "--path",
        path,
        "--connections",
        str(connections),
        "--duration",
        str(duration),
        "--warmup",
        str(warmup),
        "--server-pid",
        str(served.pid),
    ]
    for name, value in served.headers.items():
        argv += ["--header", f"{name}:{value}"]
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=duration + warmup + 120)
    if not completed.stdout.strip():
        raise RuntimeError(f"loadgen failed: {completed.stderr[-2000:]}")
    result = json.loads(completed.stdout)
    result["load_average"] = os.getloadavg()[0]
    return result


def wrk(url: str, connections: int, duration: float) -> dict | None:
    if shutil.which("wrk") is None:
        return None
    seconds = max(1, round(duration))  # wrk takes whole seconds
    argv = [
        *on_core(GENERATOR_CORE),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "-s",
        str(BENCH / "wrk" / "echo.lua"),
        url,
    ]
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    try:
        summary = json.loads(completed.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError) as exc:
        raise RuntimeError(f"wrk printed no summary: {completed.stdout[-500:]} {completed.stderr[-500:]}") from exc
    seconds = summary["duration_us"] / 1e6
    return {
        "connections": connections,
        "duration_s": round(seconds, 3),
        "requests": summary["requests"],
        "errors": summary["socket_errors"] + summary["wrong_responses"],
        "rps": round(summary["requests"] / seconds, 1),
        "latency_ms": {"p50": summary["p50_us"] / 1000, "p99": summary["p99_us"] / 1000},
    }


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_http(args: argparse.Namespace, log_dir: Path) -> tuple[list[dict], list[dict], dict[str, dict]]:
    runs: list[dict] = []
    cross_checks: list[dict] = []
    memories: dict[str, dict] = {}
    for target in TARGETS:
        if args.targets and target.name not in args.targets:
            continue
        with pinned_server(target, log_dir) as served:
            memories[target.name] = {"idle": memory(served.pid)}
            for path in target.paths:
                log(f"{target.name} {path}: warm-up {args.warmup_first}s")
                loadgen(served, path, max(args.connections), args.warmup_first, 0.0)
                counts = [c for c in args.connections if target.connections is None or c in target.connections]
                for connections in counts or args.connections[-1:]:
                    for repetition in range(1, args.repeat + 1):
                        result = loadgen(served, path, connections, args.duration, args.warmup)
                        result.update(target=target.name, repetition=repetition)
                        runs.append(result)
                        log(
                            f"{target.name} {path} c={connections} #{repetition}: {result['rps']} req/s, "
                            f"p50 {result['latency_ms']['p50']} ms, p99 {result['latency_ms']['p99']} ms, "
                            f"errors {result['errors']}, server core {result['cpu'].get('server_cpu_share')}, "
                            f"{result['cpu'].get('server_cpu_us_per_request')} µs CPU/req"
                        )
                    if path == "modern" and args.wrk and target.connections is None and not served.headers:
                        check = wrk(served.url, connections, args.duration)
                        if check is not None:
                            check.update(target=target.name, path=path)
                            cross_checks.append(check)
                            log(f"  wrk c={connections}: {check['rps']} req/s, p50 {check['latency_ms']['p50']} ms")
            memories[target.name]["after_load"] = memory(served.pid)
    return runs, cross_checks, memories


DATA_PACKS_TOML = """packs = ["core", "sql", "vectors"]
[pack.sql.databases.main]
url = "sqlite:///{db}"
[pack.vectors]
path = "{vectors}"
"""


def coldstart_rows(work: Path) -> list[tuple[str, list[str], list[str]]]:
    """(name, stdio command, extra coldstart.py options) for every server that has a stdio face."""
    work.mkdir(parents=True, exist_ok=True)
    data = work / "data-packs.toml"
    data.write_text(DATA_PACKS_TOML.format(db=work / "coldstart.db", vectors=work / "coldstart-vectors.db"))
    mcpcloud = [_mcpcloud(), "serve", "--transport", "stdio"]
    return [
        ("fastmcp-ts", fastmcp_target.stdio_command(), ["--messages", "initialize", "--no-imports"]),
        ("sdk", [*SDK_SERVER, "--stdio"], ["--no-imports"]),
        ("mcpcloud", mcpcloud, []),
        ("mcpcloud-data", [*mcpcloud, "--config", str(data)], ["--no-imports"]),
    ]


def coldstart(runs: int, work: Path) -> dict:
    fastmcp_target.ensure_installed()
    report = {}
    for name, command, options in coldstart_rows(work):
        log(f"stdio cold start {name} x{runs}")
        completed = subprocess.run(
            [*on_core(SERVER_CORE), PYTHON, str(BENCH / "coldstart.py"), "--runs", str(runs), *options, "--", *command],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=ROOT,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"coldstart of {name} failed: {completed.stderr[-2000:]}")
        report[name] = json.loads(completed.stdout)
    return report


def profile(args: argparse.Namespace, log_dir: Path) -> dict | None:
    from profile_server import profile_modern_path

    if shutil.which("py-spy", path=f"{Path(PYTHON).parent}:{os.environ.get('PATH', '')}") is None:
        log("py-spy not installed; skipping the profile (make bench installs it)")
        return None
    target = next(t for t in TARGETS if t.name == "mcpcloud")
    with pinned_server(target, log_dir) as served:
        return profile_modern_path(served.url, served.pid, seconds=args.profile_seconds, out_dir=RESULTS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=3.0, help="measured seconds per repetition")
    parser.add_argument("--warmup", type=float, default=0.5, help="warm-up seconds before each repetition")
    parser.add_argument("--warmup-first", type=float, default=1.5, help="warm-up per server and path")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 32])
    parser.add_argument(
        "--targets", nargs="+", choices=[t.name for t in TARGETS], help="only these servers (default: all)"
    )
    parser.add_argument("--coldstart-runs", type=int, default=10)
    parser.add_argument("--profile-seconds", type=float, default=15.0)
    parser.add_argument("--no-wrk", dest="wrk", action="store_false")
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument("--quick", action="store_true", help="1 repetition of 1 s, 3 cold starts, 4 s profile")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.warmup, args.warmup_first, args.repeat = 1.0, 0.5, 0.5, 1
        args.coldstart_runs, args.profile_seconds = 3, 4.0
    if shutil.which("taskset") is None:
        raise SystemExit("taskset (util-linux) is needed to pin the server and the generator to separate cores")

    started = time.time()
    log_dir = RESULTS / "logs"
    document: dict = {
        "machine": describe_machine(ROOT),
        "settings": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "warmup_first_s": args.warmup_first,
            "repeat": args.repeat,
            "connections": args.connections,
            "server_core": SERVER_CORE,
            "generator_core": GENERATOR_CORE,
        },
    }
    document["load_average_before"] = os.getloadavg()
    document["runs"], document["wrk"], document["memory"] = run_http(args, log_dir)
    document["load_average_after_http"] = os.getloadavg()
    if args.coldstart_runs:
        document["coldstart"] = coldstart(args.coldstart_runs, log_dir / "coldstart")
    if args.profile:
        log(f"profile mcpcloud 2026-07-28 path for {args.profile_seconds}s")
        document["profile"] = profile(args, log_dir)
    document["load_average_after"] = os.getloadavg()
    document["elapsed_s"] = round(time.time() - started, 1)

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    markdown = render_markdown(document)
    args.output.with_suffix(".md").write_text(markdown)
    print(markdown)
    log(f"done in {document['elapsed_s']} s: {args.output}")
    failed = [r for r in document["runs"] if r["errors"] or r["warmup_errors"]]
    failed += [c for c in document["wrk"] if c["errors"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
