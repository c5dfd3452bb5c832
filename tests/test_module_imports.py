"""Every module imports on its own (no import cycles), and a stdio server loads no feature it does not use."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import MCPCLOUD, ROOT, server_env

PACKAGE = ROOT / "src" / "mcpcloud"
NOT_IMPORTABLE_ALONE = {"mcpcloud.__main__"}  # runs the CLI


def all_modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name not in NOT_IMPORTABLE_ALONE:
            names.append(name)
    return names


# One interpreter preloads the third-party libraries (never a module of ours), then forks a
# child per module that imports just that module: a fresh mcpcloud each time, so an import cycle
# shows exactly as it would for `python -c "import <module>"`, at a fraction of the cost.
FORK_EACH = """
import importlib, json, os, sys
for lib in ("mcp.server", "mcp.client", "pydantic_settings", "starlette.applications", "structlog", "click", "httpx",
            "uvicorn", "prometheus_client", "redis.asyncio", "opentelemetry.sdk.trace", "numpy", "sqlglot", "psycopg"):
    try:
        importlib.import_module(lib)
    except ImportError:
        pass
assert not [m for m in sys.modules if m.split(".")[0] == "mcpcloud"]
failures = {}
for module in json.loads(sys.argv[1]):
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(module)
        except BaseException as exc:
            print(json.dumps({module: f"{type(exc).__name__}: {exc}"}), flush=True)
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status:
        failures.setdefault(module, f"exit status {status}")
"""


def test_every_module_imports_alone() -> None:
    modules = all_modules()
    assert "mcpcloud.observability.mcp_metrics" in modules and "mcpcloud.core.principal" in modules
    done = subprocess.run(
        [sys.executable, "-c", FORK_EACH, json.dumps(modules)], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    failures = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert failures == []


def test_the_import_check_sees_a_cycle(tmp_path: Path) -> None:
    """The forking check reports a module whose import fails, so a pass above means something."""
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from cyclic.b import B\nA = 1\n")
    (package / "b.py").write_text("from cyclic.a import A\nB = 2\n")
    done = subprocess.run(
        [sys.executable, "-c", FORK_EACH, json.dumps(["cyclic.b"])],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert "ImportError" in done.stdout and "cyclic.b" in done.stdout


HEAVY_OPTIONAL = re.compile(r"\|\s+(prometheus_client|redis|opentelemetry\.sdk|opentelemetry\.exporter)(\.|$)")


def optional_libraries_loaded(tmp_path: Path, **settings: str) -> list[str]:
    """Which optional libraries a real `mcpcloud serve --transport stdio` imports before it reads EOF and exits."""
    env = server_env(MCPCLOUD_TRANSPORT="stdio", MCPCLOUD_PACKS="core", PYTHONPROFILEIMPORTTIME="1", **settings)
    done = subprocess.run(
        [MCPCLOUD, "serve"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    timings = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    assert any(line.rstrip().endswith("mcpcloud.server") for line in timings), done.stderr[-2000:]
    return sorted({m.group(1) for line in timings if (m := HEAVY_OPTIONAL.search(line))})


def test_stdio_cold_start_loads_no_metrics_tracing_sdk_or_redis(tmp_path: Path) -> None:
    """`-X importtime`: the features that are off stay unloaded; the same check sees the SDK once tracing is on."""
    assert optional_libraries_loaded(tmp_path) == []
    traced = optional_libraries_loaded(
        tmp_path, MCPCLOUD_OBSERVABILITY__TRACING__ENABLED="true", MCPCLOUD_OBSERVABILITY__TRACING__EXPORTER="console"
    )
    assert "opentelemetry.sdk" in traced  # (and redis: tracing instruments the redis client when it is installed)
