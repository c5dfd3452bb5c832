"""Client configuration snippets: how Claude Desktop, Claude Code, VS Code and Cursor reach mcpcloud."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from typing import Any, Literal

ClientName = Literal["claude-desktop", "claude-code", "vscode", "cursor"]
CLIENTS: tuple[ClientName, ...] = ("claude-desktop", "claude-code", "vscode", "cursor")


@dataclass(frozen=True)
class Target:
    """Where the client should reach mcpcloud: a URL (remote HTTP) or a local stdio command."""

    name: str = "mcpcloud"
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    command: str | None = None
    args: tuple[str, ...] = ()

    @classmethod
    def local_stdio(cls, name: str = "mcpcloud", extra_args: tuple[str, ...] = ()) -> Target:
        command = shutil.which("mcpcloud") or sys.argv[0]
        return cls(name=name, command=command, args=("serve", "--transport", "stdio", *extra_args))


def server_entry(client: ClientName, target: Target) -> dict[str, Any]:
    """The JSON object that describes one server in the client's config file."""
    if target.url is None:
        entry: dict[str, Any] = {"command": target.command, "args": list(target.args)}
        if client == "vscode":
            entry = {"type": "stdio", **entry}
        return entry
    if client == "vscode":
        entry = {"type": "http", "url": target.url}
    elif client == "claude-desktop":
        # Claude Desktop's config file only launches local commands; mcp-remote bridges to HTTP.
        args = ["-y", "mcp-remote", target.url]
        for key, value in target.headers.items():
            args += ["--header", f"{key}:{value}"]
        return {"command": "npx", "args": args}
    elif client == "claude-code":
        entry = {"type": "http", "url": target.url}
    else:
        entry = {"url": target.url}
    if target.headers:
        entry["headers"] = dict(target.headers)
    return entry


def config_document(client: ClientName, target: Target) -> dict[str, Any]:
    """A whole config document for the client, with this one server in it."""
    top = "servers" if client == "vscode" else "mcpServers"
    return {top: {target.name: server_entry(client, target)}}


def claude_code_command(target: Target) -> str:
    if target.url is None:
        return shlex.join(["claude", "mcp", "add", target.name, "--", target.command or "mcpcloud", *target.args])
    parts = ["claude", "mcp", "add", "--transport", "http", target.name, target.url]
    for key, value in target.headers.items():
        parts += ["--header", f"{key}: {value}"]
    return shlex.join(parts)


def banner(url: str) -> str:
    """What `mcpcloud serve --transport http` prints at startup: the URL and configs to paste."""
    target = Target(url=url)
    vscode = json.dumps(config_document("vscode", target))
    cursor = json.dumps(config_document("cursor", target))
    return "\n".join(
        [
            f"mcpcloud is serving MCP at {url}",
            f"  Claude Code:  {claude_code_command(target)}",
            f"  VS Code (.vscode/mcp.json):  {vscode}",
            f"  Cursor (~/.cursor/mcp.json):  {cursor}",
            "  Claude Desktop, other clients: mcpcloud client-config --help",
        ]
    )
