"""Client configuration snippets: how Claude Desktop, Claude Code, VS Code and Cursor reach mcpcloud.

Three ways to reach mcpcloud, each in the exact shape the client documents:

- local stdio: the client spawns `mcpcloud serve --transport stdio`;
- remote: the client talks Streamable HTTP to a URL, with headers such as an API key;
- hybrid: the client spawns a local mcpcloud that also forwards the team's remote tools;
  the remote URL and headers travel in the spawned process's environment
  (`MCPCLOUD_REMOTES__TEAM__URL`, `MCPCLOUD_REMOTES__TEAM__HEADERS`: the `[remotes.team]`
  section), so the client needs one entry (docs/HYBRID.md).
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any, Literal

from mcpcloud.installation import detect_launcher

ClientName = Literal["claude-desktop", "claude-code", "vscode", "cursor"]
CLIENTS: tuple[ClientName, ...] = ("claude-desktop", "claude-code", "vscode", "cursor")

# VS Code's mcp.json schema only accepts server names of this shape; the others are laxer,
# so one rule for all keeps a name portable between clients.
SERVER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")

DEFAULT_REMOTE = "team"


def remote_env(remote: str, key: str) -> str:
    """The environment twin of `[remotes.<remote>] <key>`."""
    return f"MCPCLOUD_REMOTES__{remote.upper()}__{key.upper()}"


REMOTE_URL_ENV = remote_env(DEFAULT_REMOTE, "url")
REMOTE_HEADERS_ENV = remote_env(DEFAULT_REMOTE, "headers")


@dataclass(frozen=True)
class Target:
    """Where the client should reach mcpcloud: a URL (remote HTTP) or a local stdio command."""

    name: str = "mcpcloud"
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def local_stdio(cls, name: str = "mcpcloud", extra_args: tuple[str, ...] = ()) -> Target:
        launcher = detect_launcher()
        return cls(
            name=name, command=launcher.command, args=(*launcher.args, "serve", "--transport", "stdio", *extra_args)
        )

    @classmethod
    def hybrid(
        cls,
        name: str,
        url: str,
        headers: dict[str, str],
        remote: str = DEFAULT_REMOTE,
        extra_args: tuple[str, ...] = (),
    ) -> Target:
        """A local stdio server that also forwards the remote server's tools (as `<remote>_<tool>`)."""
        local = cls.local_stdio(name, extra_args)
        env = {remote_env(remote, "url"): url}
        if headers:
            env[remote_env(remote, "headers")] = json.dumps(headers, separators=(",", ":"))
        return cls(name=name, command=local.command, args=local.args, env=env)

    @property
    def is_remote(self) -> bool:
        return self.url is not None


def server_entry(client: ClientName, target: Target) -> dict[str, Any]:
    """The JSON object that describes one server in the client's config file."""
    if not target.is_remote:
        entry: dict[str, Any] = {"command": target.command, "args": list(target.args)}
        if target.env:
            entry["env"] = dict(target.env)
        if client in ("vscode", "claude-code"):
            entry = {"type": "stdio", **entry}
        return entry
    assert target.url is not None
    if client == "claude-desktop":
        return _mcp_remote_bridge(target.url, target.headers)
    entry = {"url": target.url} if client == "cursor" else {"type": "http", "url": target.url}
    if target.headers:
        entry["headers"] = dict(target.headers)
    return entry


def _mcp_remote_bridge(url: str, headers: dict[str, str]) -> dict[str, Any]:
    """Claude Desktop's config file only launches local commands; `mcp-remote` bridges to HTTP.

    Header values go through `env` with `Name:${VAR}` and no space after the colon, the form
    mcp-remote documents: spaces inside args are mangled on Windows, and the secret stays out
    of the process list.
    """
    args = ["-y", "mcp-remote", url]
    env: dict[str, str] = {}
    for key, value in headers.items():
        variable = "MCPCLOUD_HEADER_" + re.sub(r"[^A-Z0-9]", "_", key.upper())
        args += ["--header", f"{key}:${{{variable}}}"]
        env[variable] = value
    entry: dict[str, Any] = {"command": "npx", "args": args}
    if env:
        entry["env"] = env
    return entry


def top_level_key(client: ClientName) -> str:
    return "servers" if client == "vscode" else "mcpServers"


def config_document(client: ClientName, target: Target) -> dict[str, Any]:
    """A whole config document for the client, with this one server in it."""
    return {top_level_key(client): {target.name: server_entry(client, target)}}


def claude_code_command(target: Target) -> str:
    """The `claude mcp add` command line that registers the target with Claude Code."""
    if not target.is_remote:
        options: list[str] = []
        for key, value in target.env.items():
            options += ["--env", f"{key}={value}"]
        return shlex.join(
            ["claude", "mcp", "add", *options, target.name, "--", target.command or "mcpcloud", *target.args]
        )
    assert target.url is not None
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
