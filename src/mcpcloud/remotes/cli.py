"""`mcpcloud remotes list|check|approve|login`: see, test and trust the configured upstream servers."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

import anyio
import click
from mcp_types import Tool

from mcpcloud.config import RemoteSettings, Settings, load_settings, redacted
from mcpcloud.errors import ConfigError
from mcpcloud.remotes.pins import PinStore, PinStoreError, Withheld

T = TypeVar("T")


def _settings(config_file: str | None) -> Settings:
    try:
        return load_settings(config_file)
    except ConfigError as exc:
        click.echo(f"mcpcloud: configuration error: {exc}", err=True)
        sys.exit(2)


def _remote(settings: Settings, name: str) -> RemoteSettings:
    if name not in settings.remotes:
        known = ", ".join(sorted(settings.remotes)) or "none configured"
        raise click.BadParameter(f"no remote named {name!r} (configured: {known})", param_hint="NAME")
    return settings.remotes[name]


def _run(what: str, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    """Run one async remote operation; a failure is one line naming `what`, exit 1."""
    from mcpcloud.remotes.upstream import describe_failure

    try:
        return anyio.run(partial(fn, *args, **kwargs))
    except Exception as exc:  # noqa: BLE001 - reported as one line, not a traceback
        raise click.ClickException(f"{what}: {describe_failure(exc)}") from None


def _review(pins: PinStore, remote: str, tools: list[Tool], save: bool = True) -> tuple[list[Tool], list[Withheld]]:
    try:
        return pins.review(remote, tools, save=save)
    except PinStoreError as exc:
        raise click.ClickException(str(exc)) from None


_config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    envvar="MCPCLOUD_CONFIG",
    help="TOML configuration file (env MCPCLOUD_CONFIG).",
)


@click.group()
def remotes() -> None:
    """Upstream MCP servers whose tools this server offers ([remotes.NAME] in the config)."""


@remotes.command("list")
@_config_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_remotes(config_file: str | None, as_json: bool) -> None:
    """The configured remotes (credentials hidden)."""
    settings = _settings(config_file)
    rows = [{"name": name, **redacted(remote)} for name, remote in settings.remotes.items()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no remotes configured (add a [remotes.NAME] section with a url)")
    for row in rows:
        prefix = row["prefix"] if row["prefix"] is not None else f"{row['name']}_"
        click.echo(
            f"{row['name']}: {row['url']} (auth {row['auth']}, prefix {prefix!r}, "
            f"{'required' if row['required'] else 'optional'})"
        )


@remotes.command("check")
@click.argument("name", required=False)
@_config_option
def check(name: str | None, config_file: str | None) -> None:
    """Connect to each remote (or NAME) now: protocol, tools offered, tools withheld. Exit 1 if one fails."""
    from mcpcloud.remotes.naming import default_prefix, local_names, selected
    from mcpcloud.remotes.pins import pin_store
    from mcpcloud.remotes.upstream import describe_failure, probe

    settings = _settings(config_file)
    names = [name] if name else sorted(settings.remotes)
    pins = pin_store(settings.state_dir)
    failed = False
    for remote in names:
        config = _remote(settings, remote)
        try:
            era, tools = anyio.run(partial(probe, remote, config, state_dir=settings.state_dir))
        except Exception as exc:  # noqa: BLE001 - any failure is this remote's line in the report
            click.echo(f"{remote}: DOWN: {describe_failure(exc)}")
            failed = True
            continue
        wanted = [t for t in tools if selected(t.name, config.tools, config.exclude_tools)]
        offered, withheld = _review(pins, remote, wanted, save=False)
        prefix = config.prefix if config.prefix is not None else default_prefix(remote)
        local = local_names(remote, prefix, [t.name for t in wanted], ())
        click.echo(f"{remote}: up, protocol {era}, {len(tools)} tools listed, {len(wanted)} pass the filters")
        for tool in offered:
            click.echo(f"  {local[tool.name]}  <- {tool.name}")
        for item in withheld:
            click.echo(
                f"  {local[item.name]}  <- {item.name}  WITHHELD: {item.reason} (mcpcloud remotes approve {remote})"
            )
    sys.exit(1 if failed else 0)


@remotes.command("approve")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Approve without asking (after showing the differences).")
@_config_option
def approve(name: str, yes: bool, config_file: str | None) -> None:
    """Show how NAME's tools changed since they were approved, and approve the new definitions."""
    from mcpcloud.remotes.naming import selected
    from mcpcloud.remotes.pins import pin_store
    from mcpcloud.remotes.upstream import probe

    settings = _settings(config_file)
    config = _remote(settings, name)
    _, tools = _run(f"cannot reach remote {name!r}", probe, name, config, state_dir=settings.state_dir)
    pins = pin_store(settings.state_dir)
    _, withheld = _review(pins, name, [t for t in tools if selected(t.name, config.tools, config.exclude_tools)])
    if not withheld:
        click.echo(f"nothing to approve: every tool of {name!r} matches what was approved")
        return
    for item in withheld:
        click.echo(f"{item.name}: {item.reason}")
        click.echo(item.diff())
    if not yes and not click.confirm(f"approve {len(withheld)} changed tool definition(s) of {name!r}?", err=True):
        click.echo("nothing approved", err=True)
        sys.exit(1)
    pins.approve(name, withheld)
    click.echo(
        f"approved {len(withheld)} tool definition(s) of {name!r}; running servers offer them at the next "
        "listing or call"
    )


@remotes.command("login")
@click.argument("name")
@click.option("--no-browser", is_flag=True, help="Print the login URL instead of opening a browser.")
@_config_option
def login(name: str, no_browser: bool, config_file: str | None) -> None:
    """Log in to NAME (auth = "oauth"): authorization code + PKCE in your browser; the token is kept for servers."""
    from mcpcloud.remotes.login import run_login

    settings = _settings(config_file)
    config = _remote(settings, name)
    if config.auth != "oauth":
        raise click.ClickException(f"remote {name!r} uses auth = {config.auth!r}: there is nothing to log in to")
    _run(f"login to remote {name!r} failed", run_login, name, config, settings.state_dir, open_browser=not no_browser)
    click.echo(f"logged in to remote {name!r}; servers using it pick the token up on their next connection")
