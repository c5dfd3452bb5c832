"""Every module imports on its own (no import cycles), and a stdio server loads no feature it does not use."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import MCPCLOUD, ROOT, server_env, start_server
from tests.wire import modern_call

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


HEAVY_OPTIONAL = re.compile(r"^(prometheus_client|redis|opentelemetry\.sdk|opentelemetry\.exporter)(\.|$)")
# Commands and features a stdio `core` server never runs: the `keys` and `remotes` command groups
# (the API-key store, the pin store) and API-key verification, which is HTTP-only.
NOT_FOR_STDIO_CORE = (
    "mcpcloud.security.keys_cli",
    "mcpcloud.security.keystore",
    "mcpcloud.security.apikeys",
    "mcpcloud.remotes.cli",
    "mcpcloud.remotes.pins",
    "mcpcloud.http",
    "mcpcloud.fastpath",
)


def modules_loaded(tmp_path: Path, **settings: str) -> set[str]:
    """Every module a real `mcpcloud serve --transport stdio` (pack `core`) imports to answer one `tools/call`."""
    env = server_env(MCPCLOUD_TRANSPORT="stdio", MCPCLOUD_PACKS="core", PYTHONPROFILEIMPORTTIME="1", **settings)
    _, call = modern_call("echo", {"message": "imports"})
    done = subprocess.run(
        [MCPCLOUD, "serve"],
        env=env,
        input=json.dumps(call) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    answer = json.loads(done.stdout.splitlines()[0]) if done.stdout else None
    assert answer and answer["result"]["content"][0]["text"] == "imports", (done.stdout, done.stderr[-2000:])
    timings = [line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]
    assert "mcpcloud.server" in timings, done.stderr[-2000:]
    return set(timings)


def optional_libraries_loaded(tmp_path: Path, **settings: str) -> list[str]:
    return sorted({m.group(1) for name in modules_loaded(tmp_path, **settings) if (m := HEAVY_OPTIONAL.search(name))})


def test_stdio_cold_start_loads_no_metrics_tracing_sdk_or_redis(tmp_path: Path) -> None:
    """`-X importtime`: the features that are off stay unloaded; the same check sees the SDK once tracing is on."""
    assert optional_libraries_loaded(tmp_path) == []
    traced = optional_libraries_loaded(
        tmp_path, MCPCLOUD_OBSERVABILITY__TRACING__ENABLED="true", MCPCLOUD_OBSERVABILITY__TRACING__EXPORTER="console"
    )
    assert "opentelemetry.sdk" in traced  # (and redis: tracing instruments the redis client when it is installed)


def test_stdio_core_server_imports_no_command_or_http_only_module(tmp_path: Path) -> None:
    """The command groups the server does not run and the HTTP-only layers stay unimported on stdio."""
    loaded = modules_loaded(tmp_path)
    assert "mcpcloud.stdio" in loaded and "mcpcloud.cli" in loaded  # the check sees our own modules
    assert sorted(loaded.intersection(NOT_FOR_STDIO_CORE)) == []


def test_the_command_groups_load_when_named() -> None:
    """Lazy is not missing: `--help` lists `keys` and `remotes`, and each runs when named."""
    listing = subprocess.run([MCPCLOUD, "--help"], capture_output=True, text=True, timeout=60, env=server_env())
    assert "keys " in listing.stdout and "remotes " in listing.stdout, listing.stdout
    for group in ("keys", "remotes"):
        done = subprocess.run([MCPCLOUD, group, "--help"], capture_output=True, text=True, timeout=60, env=server_env())
        assert done.returncode == 0 and f"Usage: mcpcloud {group}" in done.stdout, done.stderr


def test_http_server_without_oauth_loads_no_jwt_or_http_client(tmp_path: Path) -> None:
    """PyJWT and httpx (~3.4 MiB of RSS) are OAuth's: a server without `oauth` in `auth.modes` never imports them."""
    server = start_server(tmp_path, "--packs", "core", env={"PYTHONPROFILEIMPORTTIME": "1"})
    server.stop()
    imported = {line.split("|")[-1].strip() for line in server.log().splitlines() if line.startswith("import time:")}
    assert "mcpcloud.security.authenticate" in imported and "mcpcloud.http" in imported, server.log()[-2000:]
    assert sorted(imported.intersection({"jwt", "httpx", "mcpcloud.security.oauth"})) == []
