"""`mcpcloud client-config`: turn the command line into a Target, then print it or write it."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import click

from mcpcloud.client_files import ClientFileError, default_config_path, write_client_config
from mcpcloud.client_local import local_pack_options
from mcpcloud.clients import DEFAULT_REMOTE, SERVER_NAME, ClientName, Target, claude_code_command, config_document
from mcpcloud.config import REMOTE_NAME


def parse_headers(headers: tuple[str, ...]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for header in headers:
        key, sep, value = header.partition(":")
        if not sep or not key.strip():
            raise click.BadParameter(f"{header!r} is not 'Name: value'", param_hint="--header")
        parsed[key.strip()] = value.strip()
    return parsed


def build_target(
    url: str | None,
    headers: tuple[str, ...],
    use_stdio: bool,
    name: str,
    remote_name: str = DEFAULT_REMOTE,
    packs: str | None = None,
    roots: tuple[str, ...] = (),
    server_config: Path | None = None,
) -> Target:
    if not SERVER_NAME.match(name):
        raise click.BadParameter(
            f"{name!r}: use a letter, then letters, digits, '-' or '_' (VS Code rejects other names)",
            param_hint="--name",
        )
    parsed = parse_headers(headers)
    # Absolute: the client spawns the server from a directory of its own choosing.
    server_args = ("--config", str(server_config.resolve())) if server_config else ()
    if url is None:
        if parsed:
            raise click.UsageError("--header needs --url: headers are sent to a remote server")
        extra_args, env = local_pack_options(packs, roots)
        return replace(Target.local_stdio(name, (*server_args, *extra_args)), env=env)
    if (packs or roots or server_config) and not use_stdio:
        raise click.UsageError(
            "--packs, --root and --server-config configure a local server; with --url add --stdio (hybrid)"
        )
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(f"{url!r} is not an http:// or https:// URL", param_hint="--url")
    if use_stdio:
        if not re.fullmatch(REMOTE_NAME, remote_name):
            raise click.BadParameter(
                f"{remote_name!r}: a lowercase letter, then up to 31 of a-z 0-9 _ - (it prefixes the tool names)",
                param_hint="--remote-name",
            )
        hybrid = Target.hybrid(name, url, parsed, remote_name, server_args)
        extra_args, env = local_pack_options(packs, roots)
        return replace(hybrid, args=(*hybrid.args, *extra_args), env={**hybrid.env, **env})
    return Target(name=name, url=url, headers=parsed)


def client_config_command(
    client: ClientName,
    url: str | None,
    headers: tuple[str, ...],
    use_stdio: bool,
    name: str,
    write: bool,
    path: Path | None,
    remote_name: str = DEFAULT_REMOTE,
    packs: str | None = None,
    roots: tuple[str, ...] = (),
    server_config: Path | None = None,
) -> None:
    target = build_target(url, headers, use_stdio, name, remote_name, packs, roots, server_config)
    if write:
        destination = path or default_config_path(client)
        try:
            result = write_client_config(destination, client, target)
        except ClientFileError as exc:
            raise click.ClickException(str(exc)) from None
        action = "replaced" if result.replaced else "added"
        click.echo(f"{action} server {target.name!r} in {result.path}", err=True)
        if result.backup:
            click.echo(f"previous file kept as {result.backup}", err=True)
        return
    if path is not None:
        raise click.UsageError("--path is only used with --write")
    if client == "claude-code":
        click.echo(claude_code_command(target))
        return
    click.echo(json.dumps(config_document(client, target), indent=2))
