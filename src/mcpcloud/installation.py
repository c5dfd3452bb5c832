"""How this mcpcloud was installed, and so the command a desktop client should spawn to run it.

Desktop clients start servers from their own directory with a minimal PATH (Claude Desktop on
macOS does not see ~/.local/bin), so the command must be absolute, and it must outlive upgrades:

- a virtual environment (pip, `make install`): the `mcpcloud` script beside its Python;
- pipx or `uv tool install`: the shim they put on PATH (stable across `pipx upgrade` /
  `uv tool upgrade`), else the script inside their environment;
- `uvx mcpcloud` (`uv tool run`): its environment lives in uv's cache and may be pruned, so the
  entry runs uvx again, pinned to this version and the extras installed here.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mcpcloud import __version__

InstallKind = Literal["venv", "pipx", "uv-tool", "uvx"]
SCRIPT = "mcpcloud.exe" if os.name == "nt" else "mcpcloud"


@dataclass(frozen=True)
class Launcher:
    """What a client runs: `command` then `args`, followed by mcpcloud's own arguments."""

    kind: InstallKind
    command: str
    args: tuple[str, ...] = ()


def detect_launcher(
    prefix: Path | None = None, environ: Mapping[str, str] | None = None, extras: tuple[str, ...] | None = None
) -> Launcher:
    prefix = Path(sys.prefix if prefix is None else prefix)
    environ = os.environ if environ is None else environ
    script = _script_in(prefix)
    if _is_uvx_environment(prefix):
        return _uvx_launcher(environ, _installed_extras() if extras is None else extras)
    if (prefix / "pipx_metadata.json").is_file():
        bin_dirs = [environ.get("PIPX_BIN_DIR"), _home(environ) / ".local" / "bin"]
        return Launcher("pipx", _shim_for(script, bin_dirs))
    if (prefix / "uv-receipt.toml").is_file():
        bin_dirs = [environ.get("UV_TOOL_BIN_DIR"), environ.get("XDG_BIN_HOME"), _home(environ) / ".local" / "bin"]
        return Launcher("uv-tool", _shim_for(script, bin_dirs))
    return Launcher("venv", str(script.absolute()) if script.is_file() else _on_path_or_argv())


def _script_in(prefix: Path) -> Path:
    return prefix / ("Scripts" if os.name == "nt" else "bin") / SCRIPT


def _is_uvx_environment(prefix: Path) -> bool:
    """uvx builds throwaway environments under `<uv cache>/archive-v<N>/<hash>/`."""
    return prefix.parent.name.startswith("archive-v") and _made_by_uv(prefix)


def _made_by_uv(prefix: Path) -> bool:
    try:
        config = (prefix / "pyvenv.cfg").read_text(encoding="utf-8")
    except OSError:
        return False
    return any(line.split("=")[0].strip() == "uv" for line in config.splitlines())


def _uvx_launcher(environ: Mapping[str, str], extras: tuple[str, ...]) -> Launcher:
    spec = "mcpcloud" + (f"[{','.join(extras)}]" if extras else "") + f"=={__version__}"
    uv = environ.get("UV")  # uv tells the processes it runs where it is
    uvx = Path(uv).with_name("uvx" + Path(uv).suffix) if uv else None
    if uvx is not None and uvx.is_file():
        return Launcher("uvx", str(uvx), ("--from", spec, "mcpcloud"))
    if uv:
        return Launcher("uvx", uv, ("tool", "run", "--from", spec, "mcpcloud"))
    return Launcher("uvx", shutil.which("uvx") or "uvx", ("--from", spec, "mcpcloud"))


def _shim_for(script: Path, bin_dirs: list[str | Path | None]) -> str:
    """The launcher-managed link on PATH that points at this environment's script, if there is one."""
    target = script.resolve()
    for directory in filter(None, bin_dirs):
        shim = Path(directory) / SCRIPT
        if shim.exists() and shim.resolve() == target:
            return str(shim.absolute())
    return str(script.absolute())


def _home(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("HOME") or Path.home())


def _on_path_or_argv() -> str:
    return os.path.abspath(shutil.which("mcpcloud") or sys.argv[0])


def _installed_extras() -> tuple[str, ...]:
    from mcpcloud.packs.extras import installed_extras

    return installed_extras()
