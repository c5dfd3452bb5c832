"""The `mcpcloud` command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import anyio
import click

from mcpcloud import __version__
from mcpcloud.config import Settings, load_settings, redacted
from mcpcloud.errors import ConfigError

_F = TypeVar("_F", bound=Callable[..., Any])


def _settings_options(fn: _F) -> _F:
    """The options every command that builds a server shares; each has an `MCPCLOUD_*` twin."""
    options = [
        click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False),
            envvar="MCPCLOUD_CONFIG",
            help="TOML configuration file (env MCPCLOUD_CONFIG).",
        ),
        click.option(
            "--packs", help="Comma-separated tool packs to enable, e.g. core,conformance (env MCPCLOUD_PACKS)."
        ),
        click.option(
            "--log-level",
            type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
            help="Log level (env MCPCLOUD_LOG__LEVEL).",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _load(config_file: str | None, packs: str | None, log_level: str | None, **flags: Any) -> Settings:
    overrides: dict[str, Any] = {**flags, "packs": packs}
    if log_level:
        overrides["log"] = {"level": log_level}
    return load_settings(config_file, **overrides)


def _config_errors_exit_2(fn: _F) -> _F:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            click.echo(f"mcpcloud: configuration error: {exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mcpcloud")
def main() -> None:
    """mcpcloud: one MCP server for your own machine (stdio) and for your team's cluster (HTTP).

    \b
    Start here:
      mcpcloud serve                      HTTP on http://127.0.0.1:8000/mcp
      mcpcloud serve --transport stdio    for a desktop client to spawn
      mcpcloud tools                      what the enabled packs offer
      mcpcloud config                     the effective configuration, secrets hidden
    """


@main.command()
@click.option("--transport", type=click.Choice(["stdio", "http"]), help="stdio or http (env MCPCLOUD_TRANSPORT).")
@click.option("--host", help="Bind address for http (env MCPCLOUD_HOST).")
@click.option("--port", type=int, help="Port for http (env MCPCLOUD_PORT).")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Server processes on the one port; more than 1 needs redis.url (env MCPCLOUD_HTTP__WORKERS).",
)
@_settings_options
@_config_errors_exit_2
def serve(transport: str | None, host: str | None, port: int | None, workers: int | None, **common: Any) -> None:
    """Serve MCP over stdio or Streamable HTTP."""
    import logging

    from mcpcloud.config import deprecation_notes
    from mcpcloud.observability.logging import configure_logging
    from mcpcloud.workers import prepare_metrics_directory, serve_workers

    http = {"workers": workers} if workers is not None else None
    settings = _load(transport=transport, host=host, port=port, http=http, **common)
    configure_logging(settings.log)
    for note in deprecation_notes(settings):
        logging.getLogger("mcpcloud.config").warning(note)
    workers = settings.http.workers if settings.transport == "http" else 1
    prepare_metrics_directory(workers)  # before anything imports prometheus-client
    if workers > 1:
        serve_workers(settings, _flags_as_environment(transport, host, port, common), workers)
        return
    from mcpcloud.observability.tracing import configure_tracing
    from mcpcloud.server import build

    configure_tracing(settings.observability.tracing)
    server = build(settings)
    if settings.transport == "stdio":
        from mcpcloud.stdio import serve_stdio

        serve_stdio(server)
        return

    from mcpcloud.clients import banner
    from mcpcloud.http import serve_http

    click.echo(banner(settings.mcp_url), err=True)
    serve_http(server)


def _flags_as_environment(
    transport: str | None, host: str | None, port: int | None, common: dict[str, Any]
) -> dict[str, str]:
    """The command-line settings as the `MCPCLOUD_*` variables worker processes read them from."""
    flags = {
        "TRANSPORT": transport,
        "HOST": host,
        "PORT": port,
        "PACKS": common.get("packs"),
        "LOG__LEVEL": common.get("log_level"),
    }
    return {f"MCPCLOUD_{name}": str(value) for name, value in flags.items() if value is not None}


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_settings_options
@_config_errors_exit_2
def tools(as_json: bool, **common: Any) -> None:
    """List the enabled tools with the scopes they need and their annotations."""
    from mcpcloud.server import build

    server = build(_load(**common))
    listed = anyio.run(server.mcp.list_tools)
    rows = []
    for tool in listed:
        policy = server.registry.get(tool.name)
        annotations = tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else {}
        rows.append(
            {
                "name": tool.name,
                "pack": policy.pack if policy else None,
                "scopes": list(policy.scopes) if policy else [],
                "annotations": annotations,
                "description": tool.description or "",
            }
        )
    if as_json or not sys.stdout.isatty():
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} tools")
    for column in ("tool", "pack", "scopes", "hints", "description"):
        table.add_column(column)
    for row in rows:
        hints = ", ".join(key.removesuffix("Hint") for key, on in row["annotations"].items() if on is True)
        table.add_row(row["name"], row["pack"] or "", " ".join(row["scopes"]), hints, row["description"].split("\n")[0])
    Console().print(table)


@main.command("config")
@click.option("--transport", type=click.Choice(["stdio", "http"]))
@click.option("--host")
@click.option("--port", type=int)
@_settings_options
@_config_errors_exit_2
def show_config(transport: str | None, host: str | None, port: int | None, **common: Any) -> None:
    """Print the effective configuration as JSON, with every secret redacted."""
    from mcpcloud.server import build

    settings = _load(transport=transport, host=host, port=port, **common)
    build(settings)  # validates the pack sections too
    click.echo(json.dumps(redacted(settings), indent=2))


def _add_keys_group() -> None:
    from mcpcloud.security.keys_cli import keys

    main.add_command(keys)


_add_keys_group()


def _add_remotes_group() -> None:
    from mcpcloud.remotes.cli import remotes

    main.add_command(remotes)


_add_remotes_group()


@main.command("client-config")
@click.argument("client", type=click.Choice(["claude-desktop", "claude-code", "vscode", "cursor"]))
@click.option("--url", "--remote", "url", help="Remote mcpcloud URL, e.g. https://mcp.example.com/mcp.")
@click.option("--header", "headers", multiple=True, help="HTTP header for a remote URL, 'Name: value' (repeatable).")
@click.option(
    "--stdio",
    "use_stdio",
    is_flag=True,
    help="Spawn mcpcloud locally over stdio (the default without --remote); with --remote: hybrid.",
)
@click.option(
    "--remote-name",
    default="team",
    show_default=True,
    help="Hybrid: the remote's name, which prefixes its tools (team_echo).",
)
@click.option("--name", default="mcpcloud", show_default=True, help="Server name in the client's config.")
@click.option("--write", "write", is_flag=True, help="Merge into the client's config file (backup first).")
@click.option(
    "--path",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Config file for --write (default: where the client looks).",
)
@click.option("--packs", help="Local server: packs to serve, e.g. core,filesystem,shell.")
@click.option(
    "--root", "roots", multiple=True, help="Local server: directory the filesystem/shell packs may touch (repeatable)."
)
@click.option(
    "--server-config",
    "server_config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Local server: the TOML file it reads (written as an absolute --config).",
)
def client_config(
    client: str,
    url: str | None,
    headers: tuple[str, ...],
    use_stdio: bool,
    remote_name: str,
    name: str,
    write: bool,
    path: Path | None,
    packs: str | None,
    roots: tuple[str, ...],
    server_config: Path | None,
) -> None:
    """Print (or --write) the configuration a client needs to reach mcpcloud.

    \b
    local stdio:  mcpcloud client-config claude-desktop
    remote:       mcpcloud client-config vscode --url https://mcp.example.com/mcp --header "Authorization: Bearer KEY"
    hybrid:       mcpcloud client-config cursor --stdio --remote https://mcp.example.com/mcp --header "Authorization: Bearer KEY"
    local files:  mcpcloud client-config claude-desktop --packs core,filesystem,shell --root ~/project
    """
    from mcpcloud.client_commands import client_config_command

    client_config_command(
        client,
        url,
        headers,
        use_stdio,
        name,
        write,
        path,
        remote_name,
        packs,
        roots,
        server_config,  # type: ignore[arg-type]
    )


@main.group()
def cache() -> None:
    """Result-cache maintenance."""


@cache.command("clear")
@click.option("--tool", help="Clear only this tool's cached results.")
@_settings_options
@_config_errors_exit_2
def cache_clear(tool: str | None, **common: Any) -> None:
    """Delete cached tool results from the shared (Redis) cache."""
    from mcpcloud.engine.cache import CacheClearError, clear_cache

    settings = _load(**common)
    try:
        deleted = anyio.run(clear_cache, settings.cache, tool)
    except CacheClearError as exc:
        click.echo(f"mcpcloud: {exc}", err=True)
        sys.exit(1)
    click.echo(f"cleared {deleted} cached result{'s' if deleted != 1 else ''}" + (f" of {tool}" if tool else ""))


@main.group()
def state() -> None:
    """Shared state (Redis) maintenance."""


@state.command("rotate-request-keys")
@_settings_options
@_config_errors_exit_2
def rotate_request_keys(**common: Any) -> None:
    """Add a new request-state key in Redis; replicas seal with it about a minute later, old tokens stay valid."""
    from mcpcloud.state.errors import StateUnavailable
    from mcpcloud.state.redis import redis_client
    from mcpcloud.state.requeststate import RedisKeyRing, SharedKeyCodec

    settings = _load(**common)
    if settings.request_state.keys is not None:
        raise ConfigError("request_state.keys is set: rotate by putting a new first key in that Secret (keep the old)")
    if settings.redis.url is None:
        raise ConfigError("redis.url is not set: without Redis each process has its own request-state key")

    async def rotate() -> None:
        redis = redis_client(settings.redis)
        try:
            await RedisKeyRing(redis, settings.redis.key_prefix, SharedKeyCodec()).rotate()
        finally:
            await redis.aclose()

    try:
        anyio.run(rotate)
    except StateUnavailable as exc:
        click.echo(f"mcpcloud: {exc}; nothing was changed", err=True)
        sys.exit(1)
    click.echo("added a request-state key; replicas start sealing with it within about a minute", err=True)
