"""Where the time goes: py-spy samples a pinned server under 32-connection 2026-07-28 load.

    python bench/profile_server.py --url http://127.0.0.1:8000/mcp --pid 1234 --seconds 10
    python bench/profile_server.py --summarize bench/results/profile-mcpcloud-modern.txt

The raw collapsed stacks are kept beside the results; the summary splits the samples by
layer (who owns the code on the stack: mcpcloud, the SDK, starlette, uvicorn) and lists the
functions with the most inclusive and self time. Time in C (uvloop, httptools, pydantic-core)
is charged to the Python frame that called it; samples with no Python frame above the event
loop are the loop itself (I/O, callbacks), shown as "event loop". Only samples holding the
GIL are kept (`--gil`), so idle worker threads do not count as work. py-spy stops the
process for each sample (its default): `--nonblocking` costs nothing but reads stacks
while they change, and here it put a third of the handler task's samples elsewhere. At
100 Hz the pauses halve the server's throughput on this 2-core machine; what is measured
is where its CPU goes, which the pauses do not move much.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from pinning import GENERATOR_CORE, on_core

BENCH = Path(__file__).resolve().parent
RATE_HZ = 100

# Checked in order; the first fragment found in a frame's file names its layer.
LAYERS = (
    ("/mcpcloud/", "mcpcloud"),
    ("/mcp_types/", "mcp SDK"),
    ("/mcp/", "mcp SDK"),
    ("/sse_starlette/", "starlette"),
    ("/starlette/", "starlette"),
    ("/uvicorn/", "uvicorn"),
    ("/pydantic_core/", "pydantic"),
    ("/pydantic/", "pydantic"),
    ("/anyio/", "anyio"),
    ("/uvloop/", "event loop"),
    ("/asyncio/", "event loop"),
    ("/json/", "json (stdlib)"),
    ("/logging/", "logging"),
    ("/structlog/", "logging"),
    ("/threading.py", "threads"),
    ("/queue.py", "threads"),
    ("/concurrent/", "threads"),
)
# Frames up to and including the loop's run call are process startup, not request work.
LOOP_ENTRY = "Runner.run"
OWNERS = frozenset({"mcpcloud", "mcp SDK", "starlette", "uvicorn"})

# The steps of one 2026-07-28 tools/call, for the README's "Where the time goes". A step is a
# chain of function names (exact, or the last dotted part of a qualified name) that must
# appear on a sample's stack in this order; a name starting with ">" must be the direct
# callee of the previous one. `but_not` names a function that must not appear below the
# match ("*": the match must be the leaf), so a step can be a function's own time.
# Written against mcp 2.3.0; a step that no longer matches shows 0 %.
REQUEST_STEPS: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    (
        "ASGI stack up to the SDK (uvicorn, starlette, DrainGate, OriginGuard, body limit, send)",
        ("RequestResponseCycle.run_asgi",),
        "handle_modern_request",
    ),
    ("uvicorn: parse request, start ASGI task", ("HttpToolsProtocol.data_received",), None),
    ("SDK handle_modern_request, request task", ("handle_modern_request",), None),
    ("  its own lines", ("handle_modern_request",), "*"),
    ("  TransportSecurityMiddleware + Accept check", ("handle_modern_request", ">validate_request"), None),
    ("  check_accept_headers", ("handle_modern_request", ">check_accept_headers"), None),
    ("  Request.body", ("handle_modern_request", ">Request.body"), None),
    ("  json.loads of the body", ("handle_modern_request", ">loads"), None),
    ("  JSONRPCRequest.model_validate", ("handle_modern_request", ">BaseModel.model_validate"), None),
    (
        "  find_duplicated_routing_header + classify_inbound_request",
        ("handle_modern_request", ">classify_inbound_request"),
        None,
    ),
    (
        "  _mcp_param_rejection (Mcp-Param headers vs tool schema)",
        ("handle_modern_request", ">_mcp_param_rejection"),
        None,
    ),
    ("  Connection.from_envelope", ("handle_modern_request", ">Connection.from_envelope"), None),
    (
        "  task group + memory stream + move_on_after (SSE-capable mode)",
        ("handle_modern_request", ">TaskGroup.__aenter__"),
        None,
    ),
    ("  spawn run_handler + watch_disconnect", ("handle_modern_request", ">TaskGroup.start_soon"), None),
    ("  task group exit", ("handle_modern_request", ">TaskGroup.__aexit__"), None),
    ("  wait on the memory stream", ("handle_modern_request", ">MemoryObjectReceiveStream.receive"), None),
    ("  _write: model_dump + json.dumps + starlette Response + send", ("handle_modern_request", ">_write"), None),
    ("SDK handler task (run_handler)", ("run_handler",), None),
    ("  serve_one: ServerRunner, context, middleware chain", ("run_handler", "serve_one"), None),
    (
        "    OpenTelemetryMiddleware, own time (span, attributes)",
        ("OpenTelemetryMiddleware.__call__",),
        "RequestStateBoundary.__call__",
    ),
    ("    validate_client_request (params vs the per-version surface)", ("_inner", ">validate_client_request"), None),
    ("    params_type.model_validate (typed params, second validation)", ("_inner", ">BaseModel.model_validate"), None),
    ("    MCPServer._handle_call_tool", ("_inner", "_handle_call_tool"), None),
    ("      FuncMetadata.validate_arguments", ("_handle_call_tool", "validate_arguments"), None),
    ("      sync tool via anyio.to_thread.run_sync", ("_handle_call_tool", "run_sync"), None),
    ("      FuncMetadata.convert_result", ("_handle_call_tool", "convert_result"), None),
    (
        "    ServerRunner._serialize (result validation, hints, serverInfo)",
        ("_inner", ">ServerRunner._serialize"),
        None,
    ),
    ("    aclose_shielded (per-request Connection teardown)", ("serve_one", ">aclose_shielded"), None),
    ("  JSONRPCResponse construction", ("_to_jsonrpc_response",), "serve_one"),
    # With mcpcloud's fast path (http.fast_path, the default) the SDK rows above stay at 0 and these fill.
    ("access log (HttpObservability._log)", ("HttpObservability._log",), None),
    ("engine's HTTP front, own work (CallFront: body, parse, decide)", ("CallFront.__call__",), "FastPath.__call__"),
    ("mcpcloud fast path (FastPath.__call__)", ("FastPath.__call__",), None),
    ("  read the body", ("FastPath._modern", ">read_body"), None),
    ("  parse (orjson) + eligibility (classify_inbound_request)", ("FastPath._modern", ">FastPath._exchange"), None),
    ("  ServerRequestContext + Request", ("FastPath._modern", ">FastPath._context"), None),
    # The SDK puts its RequestStateBoundary outermost on every server: the chain starts there.
    (
        "  message pipeline (the server's middleware chain)",
        ("FastPath._modern", ">RequestStateBoundary.__call__"),
        None,
    ),
    (
        "    engine stage (runs the front's decision, timeout wrapper)",
        ("FastPath._modern", "EngineStage.__call__"),
        None,
    ),
    ("    tool: prepared validator, the function, result", ("FastPath._modern", "FastTool.call"), None),
    ("    SDK result shaping (ServerRunner._serialize)", ("FastPath._modern", "ServerRunner._serialize"), None),
    (
        "  response write (one start, one body, through the middleware send wrappers)",
        ("FastPath._modern", ">send_json"),
        None,
    ),
)


def _name_matches(name: str, needle: str) -> bool:
    return name == needle or name.endswith("." + needle)


def _matches_step(names: list[str], chain: tuple[str, ...], but_not: str | None) -> bool:
    position = -1
    for needle in chain:
        if needle.startswith(">"):
            position += 1
            if position >= len(names) or not _name_matches(names[position], needle[1:]):
                return False
            continue
        position += 1
        while position < len(names) and not _name_matches(names[position], needle):
            position += 1
        if position >= len(names):
            return False
    below = names[position + 1 :]
    if but_not == "*":
        return not below
    return but_not is None or not any(_name_matches(name, but_not) for name in below)


def parse_frame(frame: str) -> tuple[str, str]:
    """py-spy frame text `function (path/to/file.py)` -> (function, file)."""
    name, _, rest = frame.rpartition(" (")
    return (name or frame), rest.rstrip(")")


def layer_of(file: str) -> str:
    file = "/" + file  # py-spy gives package-relative paths: mcp/server/runner.py
    for fragment, layer in LAYERS:
        if fragment in file:
            return layer
    return "other"


def short_file(file: str) -> str:
    for marker in ("site-packages/", "src/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def read_collapsed(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def summarize(stacks: list[tuple[list[str], int]], top: int = 25) -> dict[str, object]:
    total = sum(count for _, count in stacks)
    by_leaf_layer: Counter[str] = Counter()
    by_owner: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    steps: Counter[str] = Counter()
    for frames, count in stacks:
        parsed = [parse_frame(frame) for frame in frames]
        entry = next((i for i, (name, _) in enumerate(parsed) if name == LOOP_ENTRY), None)
        if entry is not None:
            parsed = parsed[entry + 1 :]
        layers = [layer_of(file) for _, file in parsed]
        # With uvloop the loop itself is C: a sample with no Python frame below it is the loop's own work.
        by_leaf_layer[layers[-1] if layers else "event loop"] += count
        owner = next((layer for layer in reversed(layers) if layer in OWNERS), "event loop")
        by_owner[owner] += count
        names = [name for name, _ in parsed]
        for label, chain, but_not in REQUEST_STEPS:
            if _matches_step(names, chain, but_not):
                steps[label] += count
        seen = set()
        for name, file in parsed:
            key = f"{name} ({short_file(file)})"
            if key not in seen:
                seen.add(key)
                inclusive[key] += count
        if parsed:
            name, file = parsed[-1]
            self_time[f"{name} ({short_file(file)})"] += count

    def shares(counter: Counter[str], limit: int | None = None) -> list[dict[str, object]]:
        return [{"name": k, "share": round(v / total, 4)} for k, v in counter.most_common(limit)]

    return {
        "samples": total,
        "by_owner": shares(by_owner),
        "by_leaf_layer": shares(by_leaf_layer),
        "request_steps": [{"name": label, "share": round(steps[label] / total, 4)} for label, *_ in REQUEST_STEPS],
        "top_inclusive": shares(inclusive, top * 2),
        "top_self": shares(self_time, top),
    }


def profile_modern_path(url: str, pid: int, seconds: float, out_dir: Path, connections: int = 32) -> dict[str, object]:
    """Load the server at `url` and sample process `pid` with py-spy in the middle of that load."""
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = out_dir / "profile-mcpcloud-modern.txt"
    settle = 2.0
    load = subprocess.Popen(
        [
            *on_core(GENERATOR_CORE),
            sys.executable,
            str(BENCH / "loadgen.py"),
            "--url",
            url,
            "--path",
            "modern",
            "--connections",
            str(connections),
            "--warmup",
            str(settle),
            "--duration",
            str(seconds + 1),
            "--server-pid",
            str(pid),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(settle + 0.5)
    py_spy = str(Path(sys.executable).with_name("py-spy"))
    subprocess.run(
        [
            *on_core(GENERATOR_CORE),
            py_spy if Path(py_spy).exists() else "py-spy",
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(int(seconds)),
            "--rate",
            str(RATE_HZ),
            "--gil",
            "--format",
            "raw",
            "--nolineno",
            "--output",
            str(raw),
        ],
        check=True,
        capture_output=True,
        timeout=seconds + 60,
    )
    stdout, _ = load.communicate(timeout=seconds + 60)
    summary = summarize(read_collapsed(raw))
    summary["raw_file"] = str(raw.relative_to(BENCH.parent)) if raw.is_relative_to(BENCH.parent) else str(raw)
    summary["load_during_profile"] = json.loads(stdout) if stdout.strip() else None
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url")
    parser.add_argument("--pid", type=int)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--summarize", type=Path, help="summarize an existing collapsed-stack file instead")
    args = parser.parse_args()
    if args.summarize:
        result = summarize(read_collapsed(args.summarize))
    elif args.url and args.pid:
        result = profile_modern_path(args.url, args.pid, args.seconds, BENCH / "results")
    else:
        parser.error("give --url and --pid, or --summarize FILE")
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
