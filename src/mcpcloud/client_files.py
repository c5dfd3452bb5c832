"""Merging one mcpcloud entry into a client's config file, keeping everything else in it."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mcpcloud.clients import ClientName, Target, server_entry, top_level_key


class ClientFileError(Exception):
    """The config file cannot be merged into; it was left as it was."""


@dataclass(frozen=True)
class WriteResult:
    path: Path
    backup: Path | None
    replaced: bool


def default_config_path(
    client: ClientName,
    *,
    home: Path | None = None,
    cwd: Path | None = None,
    platform: str | None = None,
    environ: dict[str, str] | None = None,
) -> Path:
    """Where each client reads its MCP servers, as its documentation gives it.

    Claude Code and VS Code get the project-scoped file of the current directory (the one a
    team commits); Cursor gets the global file; Claude Desktop its per-OS app-data file.
    """
    home = home or Path.home()
    cwd = cwd or Path.cwd()
    platform = platform or sys.platform
    environ = os.environ if environ is None else environ  # type: ignore[assignment]
    if client == "claude-code":
        return cwd / ".mcp.json"
    if client == "vscode":
        return cwd / ".vscode" / "mcp.json"
    if client == "cursor":
        return home / ".cursor" / "mcp.json"
    if platform == "darwin":
        base = home / "Library" / "Application Support"
    elif platform.startswith("win"):
        base = Path(environ.get("APPDATA") or home / "AppData" / "Roaming")
    else:
        base = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    return base / "Claude" / "claude_desktop_config.json"


def merge_entry(document: dict[str, Any], client: ClientName, target: Target) -> tuple[dict[str, Any], bool]:
    """The document with the target's entry set under the client's servers key; other keys kept."""
    key = top_level_key(client)
    servers = document.get(key, {})
    if not isinstance(servers, dict):
        raise ClientFileError(f"{key!r} is a {type(servers).__name__}, expected an object of servers")
    replaced = target.name in servers
    merged = dict(document)
    merged[key] = {**servers, target.name: server_entry(client, target)}
    return merged, replaced


def write_client_config(path: Path, client: ClientName, target: Target, *, now: datetime | None = None) -> WriteResult:
    """Merge the target into the file at `path`, backing the old file up first; atomic replace."""
    document = _read_document(path)
    merged, replaced = merge_entry(document, client, target)
    backup = None
    if path.exists():
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
        backup = path.with_name(f"{path.name}.{stamp}.bak")
        shutil.copy2(path, backup)
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
    return WriteResult(path=path, backup=backup, replaced=replaced)


def _read_document(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ClientFileError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    if not text.strip():
        return {}
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ClientFileError(
            f"{path}: not plain JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "it was left unchanged: add the entry printed without --write by hand"
        ) from None
    if not isinstance(document, dict):
        raise ClientFileError(f"{path}: the top level is a {type(document).__name__}, expected an object")
    return document


def _atomic_write(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
