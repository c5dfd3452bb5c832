"""client-config's launcher detection on the layouts pipx and uv create (the real installs are in test_install.py)."""

from __future__ import annotations

from pathlib import Path

from mcpcloud import __version__
from mcpcloud.installation import detect_launcher


def environment(prefix: Path, marker: str | None = None, pyvenv: str = "home = /usr/bin\n") -> Path:
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "mcpcloud").write_text("#!/bin/sh\n")
    (prefix / "pyvenv.cfg").write_text(pyvenv)
    if marker:
        (prefix / marker).write_text("{}")
    return prefix / "bin" / "mcpcloud"


def test_pipx_entry_is_the_shim_that_points_at_its_venv(tmp_path: Path) -> None:
    script = environment(tmp_path / "pipx" / "venvs" / "mcpcloud", "pipx_metadata.json")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "mcpcloud").symlink_to(script)
    launcher = detect_launcher(script.parent.parent, {"PIPX_BIN_DIR": str(bin_dir), "HOME": str(tmp_path)})
    assert (launcher.kind, launcher.command, launcher.args) == ("pipx", str(bin_dir / "mcpcloud"), ())


def test_a_shim_pointing_elsewhere_is_not_used(tmp_path: Path) -> None:
    script = environment(tmp_path / "uv" / "tools" / "mcpcloud", "uv-receipt.toml")
    other = environment(tmp_path / "other")
    bin_dir = tmp_path / ".local" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "mcpcloud").symlink_to(other)
    launcher = detect_launcher(script.parent.parent, {"HOME": str(tmp_path)})
    assert (launcher.kind, launcher.command) == ("uv-tool", str(script))


def test_uvx_without_uv_in_the_environment_falls_back_to_uvx_on_path(tmp_path: Path) -> None:
    prefix = tmp_path / "cache" / "archive-v0" / "abc123"
    environment(prefix, pyvenv="home = /usr/bin\nuv = 0.13.9\n")
    launcher = detect_launcher(prefix, {"HOME": str(tmp_path), "PATH": ""}, extras=("postgres", "sql"))
    assert launcher.kind == "uvx"
    assert launcher.args == ("--from", f"mcpcloud[postgres,sql]=={__version__}", "mcpcloud")


def test_a_plain_venv_under_a_directory_named_archive_is_still_a_venv(tmp_path: Path) -> None:
    script = environment(tmp_path / "archive-v2" / "venv")
    launcher = detect_launcher(script.parent.parent, {"HOME": str(tmp_path)})
    assert (launcher.kind, launcher.command) == ("venv", str(script))
