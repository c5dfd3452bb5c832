"""Markdown tables from a results document (bench/results/latest.json).

python bench/report.py bench/results/latest.json
"""

from __future__ import annotations

import json
import statistics
import sys
from itertools import groupby
from pathlib import Path
from typing import Any

PATH_TITLES = {"modern": "2026-07-28 stateless", "legacy": "2025-11-25 session"}
TARGET_TITLES = {
    "bare": "bare ASGI on uvicorn (ceiling)",
    "fastmcp-ts": "TypeScript fastmcp (3 tools, stateful)",
    "sdk": "SDK alone (`MCPServer`)",
    "mcpcloud": "mcpcloud, defaults",
    "mcpcloud-sdkpath": "mcpcloud, defaults, fast path off",
    "mcpcloud-prod": "mcpcloud, production pipeline",
    "mcpcloud-prod-sdkpath": "mcpcloud, production pipeline, fast path off",
    "sdk-async": "what-if: SDK alone, `async def` echo",
    "sdk-async-json": "what-if: SDK alone, `async def` echo, `json_response=True`",
}


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _fmt(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def http_table(runs: list[dict[str, Any]]) -> str:
    lines = [
        "| server | path | conns | req/s median (min–max of reps) | p50 ms | p99 ms (min–max) | server CPU µs/req "
        "| ≈ req/s per full core | server running / waiting for core 0 | load avg | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    key = lambda run: (run["target"], run["path"], run["connections"])  # noqa: E731
    order = {name: i for i, name in enumerate(TARGET_TITLES)}
    ordered = sorted(runs, key=lambda r: (order.get(r["target"], 99), r["path"] != "modern", r["connections"]))
    for (target, path, conns), group in groupby(ordered, key=key):
        reps = list(group)
        rps = [r["rps"] for r in reps]
        p50 = [r["latency_ms"]["p50"] for r in reps]
        p99 = [r["latency_ms"]["p99"] for r in reps]
        cpu_us = [r["cpu"]["server_cpu_us_per_request"] for r in reps if r["cpu"].get("server_cpu_us_per_request")]
        share = [r["cpu"]["server_cpu_share"] for r in reps if "server_cpu_share" in r["cpu"]]
        waiting = [r["cpu"].get("server_run_queue_wait_share", float("nan")) for r in reps]
        errors = sum(r["errors"] + r["warmup_errors"] for r in reps)
        load = [r["load_average"] for r in reps if "load_average" in r]
        lines.append(
            f"| {TARGET_TITLES.get(target, target)} | {PATH_TITLES.get(path, path)} | {conns} "
            f"| {_fmt(_median(rps))} ({_fmt(min(rps))}–{_fmt(max(rps))}) | {_median(p50):.2f} "
            f"| {_median(p99):.2f} ({min(p99):.2f}–{max(p99):.2f}) | {_fmt(_median(cpu_us))} "
            f"| {_fmt(1e6 / _median(cpu_us)) if cpu_us else 'n/a'} | {_median(share):.0%} / {_median(waiting):.0%} "
            f"| {_median(load):.1f} | {errors} |"
        )
    return "\n".join(lines)


def wrk_table(checks: list[dict[str, Any]], runs: list[dict[str, Any]]) -> str:
    if not checks:
        return "_wrk not installed: no cross-check in this run._"
    lines = [
        "| server | conns | wrk req/s | generator req/s (median) | wrk p50 / p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for check in checks:
        ours = [
            r["rps"]
            for r in runs
            if (r["target"], r["path"], r["connections"]) == (check["target"], check["path"], check["connections"])
        ]
        lines.append(
            f"| {TARGET_TITLES.get(check['target'], check['target'])} | {check['connections']} | {_fmt(check['rps'])} "
            f"| {_fmt(_median(ours))} | {check['latency_ms']['p50']:.2f} / {check['latency_ms']['p99']:.2f} "
            f"| {check['errors']} |"
        )
    return "\n".join(lines)


COLDSTART_TITLES = {
    "fastmcp-ts": "TypeScript fastmcp (3 tools)",
    "sdk": "SDK alone (`MCPServer`, 1 tool)",
    "mcpcloud": "mcpcloud, pack `core`",
    "mcpcloud-data": "mcpcloud, packs `core`, `sql`, `vectors`",
}


def coldstart_table(coldstart: dict[str, Any]) -> str:
    """One row per server and first message; `coldstart` maps a server to coldstart.py's report."""
    if "runs" in coldstart:  # one server's report (older documents)
        coldstart = {"mcpcloud": coldstart}
    lines = ["| server | first message | median ms | min–max ms | runs |", "| --- | --- | ---: | ---: | ---: |"]
    for server, report in coldstart.items():
        for name in ("server/discover", "initialize"):
            if name in report:
                row = report[name]
                lines.append(
                    f"| {COLDSTART_TITLES.get(server, server)} | `{name}` | {row['median_ms']:.0f} "
                    f"| {row['min_ms']:.0f}–{row['max_ms']:.0f} | {report['runs']} |"
                )
    imports = next((report.get("imports") for report in coldstart.values() if report.get("imports")), [])
    if imports:
        lines += ["", "Heaviest imports in one spawn (`-X importtime`, cumulative):", ""]
        lines += [f"- `{row['module']}`: {row['cumulative_ms']:.0f} ms" for row in imports[:8]]
    return "\n".join(lines)


def _cell(runs: list[dict[str, Any]], target: str, path: str, connections: int) -> dict[str, float] | None:
    reps = [r for r in runs if (r["target"], r["path"], r["connections"]) == (target, path, connections)]
    cpu = [r["cpu"]["server_cpu_us_per_request"] for r in reps if r["cpu"].get("server_cpu_us_per_request")]
    if not reps or not cpu:
        return None
    return {
        "rps": _median([r["rps"] for r in reps]),
        "cpu_us": _median(cpu),
        "p99": _median([r["latency_ms"]["p99"] for r in reps]),
    }


RATIOS = (
    # (ours, our path, anchor, anchor's path, target ratio or None)
    ("mcpcloud-prod", "modern", "fastmcp-ts", "legacy", 2.0),
    ("mcpcloud-prod", "modern", "sdk", "modern", 3.0),
    ("mcpcloud", "modern", "fastmcp-ts", "legacy", None),
    ("mcpcloud", "modern", "sdk", "modern", None),
    ("mcpcloud-prod", "legacy", "sdk", "legacy", None),
    ("mcpcloud-prod", "modern", "bare", "modern", None),
    ("mcpcloud", "modern", "mcpcloud-sdkpath", "modern", None),
    ("mcpcloud-prod", "modern", "mcpcloud-prod-sdkpath", "modern", None),
)


def ratios_table(runs: list[dict[str, Any]]) -> str:
    """Ours against the anchors, same run: req/s ratio and the CPU-per-request ratio (load-independent)."""
    lines = [
        "| ours | anchor | conns | req/s ratio | CPU/request ratio (anchor ÷ ours) | target |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for ours, our_path, anchor, anchor_path, goal in RATIOS:
        for conns in sorted({r["connections"] for r in runs}, reverse=True):
            a, b = _cell(runs, ours, our_path, conns), _cell(runs, anchor, anchor_path, conns)
            if a is None or b is None:
                continue
            rps, cpu = a["rps"] / b["rps"], b["cpu_us"] / a["cpu_us"]
            verdict = "" if goal is None else f"≥ {goal:g}×: {'met' if min(rps, cpu) >= goal else 'missed'}"
            lines.append(
                f"| {TARGET_TITLES.get(ours, ours)}, {PATH_TITLES[our_path]} "
                f"| {TARGET_TITLES.get(anchor, anchor)}, {PATH_TITLES[anchor_path]} | {conns} "
                f"| {rps:.2f}× | {cpu:.2f}× | {verdict} |"
            )
    return "\n".join(lines) if len(lines) > 2 else "_no pair of targets in this run._"


def memory_table(memory: dict[str, Any]) -> str:
    if not memory:
        return "_no memory figures in this run._"
    lines = ["| server | RSS idle MiB | RSS after load MiB | peak RSS MiB |", "| --- | ---: | ---: | ---: |"]
    for target, figures in memory.items():
        after = figures.get("after_load", figures["idle"])
        lines.append(
            f"| {TARGET_TITLES.get(target, target)} | {figures['idle']['rss_mib']:.1f} "
            f"| {after['rss_mib']:.1f} | {after['peak_rss_mib']:.1f} |"
        )
    return "\n".join(lines)


def _unprofiled_cpu_us(runs: list[dict[str, Any]]) -> float | None:
    cpu_us = [
        r["cpu"].get("server_cpu_us_per_request")
        for r in runs
        if (r["target"], r["path"], r["connections"]) == ("mcpcloud", "modern", 32)
    ]
    cpu_us = [c for c in cpu_us if c]
    return _median(cpu_us) if cpu_us else None


def profile_tables(profile: dict[str, Any] | None, runs: list[dict[str, Any]]) -> str:
    if not profile:
        return "_no profile in this run._"
    load = profile.get("load_during_profile") or {}
    sampled_us = (load.get("cpu") or {}).get("server_cpu_us_per_request")
    cpu_us = _unprofiled_cpu_us(runs)
    lines = [
        f"{profile['samples']} samples (py-spy, 100 Hz, GIL-holding only) under 32-connection load"
        + (f"; server CPU {sampled_us:,.0f} µs/request while sampled" if sampled_us else "")
        + (f", {cpu_us:,.0f} µs unprofiled (the µs column below)" if cpu_us else "")
        + ".",
        "",
    ]
    lines += ["| owner (innermost of mcpcloud / SDK / starlette / uvicorn on the stack) | share |", "| --- | ---: |"]
    lines += [f"| {row['name']} | {row['share']:.1%} |" for row in profile["by_owner"]]
    lines += ["", "| library executing (leaf frame) | share |", "| --- | ---: |"]
    lines += [f"| {row['name']} | {row['share']:.1%} |" for row in profile["by_leaf_layer"]]
    if profile.get("request_steps"):
        per_request = " | ≈ µs/req" if cpu_us else ""
        lines += [
            "",
            f"| step of one tools/call (inclusive; indented rows are parts of the row above) | share{per_request} |",
            "| --- | ---: |" + (" ---: |" if cpu_us else ""),
        ]
        for row in profile["request_steps"]:
            if not row["share"]:  # a step of the other path (SDK or fast path)
                continue
            label = row["name"].replace("  ", "&nbsp;&nbsp;")
            extra = f" | {row['share'] * cpu_us:,.0f}" if cpu_us else ""
            lines.append(f"| {label} | {row['share']:.1%}{extra} |")
    lines += ["", "| function (inclusive) | share |", "| --- | ---: |"]
    lines += [f"| `{row['name']}` | {row['share']:.1%} |" for row in profile["top_inclusive"][:40]]
    lines += ["", "| function (self) | share |", "| --- | ---: |"]
    lines += [f"| `{row['name']}` | {row['share']:.1%} |" for row in profile["top_self"][:20]]
    return "\n".join(lines)


def machine_block(doc: dict[str, Any]) -> str:
    m = doc["machine"]
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    before, after = doc.get("load_average_before"), doc.get("load_average_after")
    settings = doc["settings"]
    return "\n".join(
        [
            f"- date: {m['date_utc']}; mcpcloud rev `{m['mcpcloud_git_rev']}`{' (dirty tree)' if m['mcpcloud_git_dirty'] else ''}",
            f"- machine: {m['cpu_model']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}",
            f"- Python {m['python']}; {packages}; {m['wrk']}",
            f"- server on core {settings['server_core']}, generator on core {settings['generator_core']}; "
            f"{settings['repeat']} repetitions of {settings['duration_s']} s after {settings['warmup_s']} s warm-up each "
            f"({settings['warmup_first_s']} s warm-up per server and path)",
            f"- 1-minute load average before / after: {before[0]:.2f} / {after[0]:.2f}" if before and after else "",
            f"- whole run: {doc.get('elapsed_s', 0):.0f} s",
        ]
    )


def render_markdown(doc: dict[str, Any]) -> str:
    sections = [
        "### Machine and versions",
        machine_block(doc),
        "### tools/call `echo` over HTTP",
        http_table(doc["runs"]),
        "### Ratios (same run)",
        ratios_table(doc["runs"]),
        "### Memory (server process, /proc VmRSS / VmHWM)",
        memory_table(doc.get("memory", {})),
        "### wrk cross-check (2026-07-28 path)",
        wrk_table(doc.get("wrk", []), doc["runs"]),
        "### stdio cold start (spawn to first response)",
        coldstart_table(doc.get("coldstart", {})),
        "### Profile of mcpcloud, 2026-07-28 path",
        profile_tables(doc.get("profile"), doc["runs"]),
    ]
    return "\n\n".join(sections) + "\n"


if __name__ == "__main__":
    print(render_markdown(json.loads(Path(sys.argv[1]).read_text())))
