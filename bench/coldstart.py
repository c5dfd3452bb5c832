"""stdio cold start: spawn a stdio server (default `mcpcloud serve --transport stdio`) until its first response.

    python bench/coldstart.py --runs 10
    python bench/coldstart.py --runs 10 --messages initialize --no-imports -- node bench/fastmcp_ts/server.mjs --stdio

For each first message (`server/discover`, what the SDK client sends first in auto mode,
and `initialize`, what 2025-era desktop clients send) the server is spawned `--runs`
times; the figure is wall time from spawn to the first complete line on stdout.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from scenarios import CLIENT_INFO, LEGACY_VERSION, MODERN_VERSION

FIRST_MESSAGES = {
    "server/discover": {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "server/discover",
        "params": {
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
                "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
                "io.modelcontextprotocol/clientCapabilities": {},
            }
        },
    },
    "initialize": {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": LEGACY_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO},
    },
}


def default_command() -> list[str]:
    beside_python = Path(sys.executable).with_name("mcpcloud")
    executable = str(beside_python) if beside_python.exists() else shutil.which("mcpcloud")
    if executable is None:
        raise SystemExit("mcpcloud is not installed (run `make install`)")
    return [executable, "serve", "--transport", "stdio"]


def spawn_to_first_response(command: list[str], message: dict[str, object]) -> float:
    line = (json.dumps(message) + "\n").encode()
    started = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(line)
        process.stdin.flush()
        response = process.stdout.readline()
        elapsed = time.perf_counter() - started
        reply = json.loads(response)
        if reply.get("id") != 1 or "result" not in reply:
            raise RuntimeError(f"unexpected first response: {response[:300]!r}")
        return elapsed
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def import_times(command: list[str], message: dict[str, object], top: int = 12) -> list[dict[str, object]]:
    """One spawn under `-X importtime`: the heaviest imports (top two nesting levels), cumulative ms."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    completed = subprocess.run(
        command, input=(json.dumps(message) + "\n").encode(), capture_output=True, env=env, timeout=60
    )
    rows = []
    for line in completed.stderr.decode(errors="replace").splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        if depth <= 1:
            rows.append({"module": name.strip(), "depth": depth, "cumulative_ms": round(int(cumulative) / 1000, 1)})
    rows.sort(key=lambda row: -row["cumulative_ms"])
    return rows[:top]


def measure(
    command: list[str], runs: int, messages: list[str] | None = None, imports: bool = True
) -> dict[str, object]:
    report: dict[str, object] = {"command": command, "runs": runs}
    for name in messages or list(FIRST_MESSAGES):
        message = FIRST_MESSAGES[name]
        spawn_to_first_response(command, message)  # warm the page cache; not counted
        samples = [spawn_to_first_response(command, message) for _ in range(runs)]
        report[name] = {
            "median_ms": round(statistics.median(samples) * 1000, 1),
            "min_ms": round(min(samples) * 1000, 1),
            "max_ms": round(max(samples) * 1000, 1),
            "samples_ms": [round(s * 1000, 1) for s in samples],
        }
    if imports:
        report["imports"] = import_times(command, FIRST_MESSAGES["initialize"])
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--messages",
        nargs="+",
        choices=sorted(FIRST_MESSAGES),
        help="first messages to time (default: all; a 2025-era server only answers initialize)",
    )
    parser.add_argument("--no-imports", dest="imports", action="store_false", help="skip the -X importtime spawn")
    parser.add_argument("command", nargs="*", help="server command (default: mcpcloud serve --transport stdio)")
    args = parser.parse_args()
    json.dump(measure(args.command or default_command(), args.runs, args.messages, args.imports), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
