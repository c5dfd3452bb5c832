"""`mcpcloud keys create|list|revoke`: manage API keys in the configured store."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import anyio
import click

from mcpcloud.config import load_settings
from mcpcloud.errors import ConfigError
from mcpcloud.security.apikeys import mint, parse_duration, revoked
from mcpcloud.security.keystore import KeyStore, key_store
from mcpcloud.state.errors import StateUnavailable

_SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")  # RFC 6749 scope-token characters


def _store(config_file: str | None) -> KeyStore:
    return key_store(load_settings(config_file))


def _run(config_file: str | None, action: Any) -> Any:
    try:
        store = _store(config_file)

        async def go() -> Any:
            try:
                return await action(store)
            finally:
                await store.aclose()

        return anyio.run(go)
    except ConfigError as exc:
        click.echo(f"mcpcloud: configuration error: {exc}", err=True)
        sys.exit(2)
    except StateUnavailable as exc:
        click.echo(f"mcpcloud: {exc}; check redis.url and that Redis is up, then retry", err=True)
        sys.exit(1)


_config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    envvar="MCPCLOUD_CONFIG",
    help="TOML configuration file; [auth.api_keys] picks the store (env MCPCLOUD_CONFIG).",
)


@click.group()
def keys() -> None:
    """Create, list and revoke API keys (store: auth.api_keys.store, file or redis)."""


@keys.command()
@click.option("--name", required=True, help="Who or what the key is for, e.g. ci-deploy.")
@click.option("--scopes", required=True, help="Comma-separated scopes, e.g. core:read,sql:read (`*`: all).")
@click.option("--expires", help="Lifetime such as 90d, 12h, 2w, 1y (default: never).")
@_config_option
def create(name: str, scopes: str, expires: str | None, config_file: str | None) -> None:
    """Create a key and print it once; only its hash is stored."""
    scope_list = [s.strip() for s in scopes.split(",") if s.strip()]
    bad = [s for s in scope_list if not _SCOPE.match(s)]
    if not scope_list or bad:
        raise click.BadParameter(f"scopes must be non-empty scope tokens, got {bad or scopes!r}", param_hint="--scopes")
    if not name.strip():
        raise click.BadParameter("must not be empty", param_hint="--name")
    try:
        lifetime = parse_duration(expires) if expires else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--expires") from None
    new = mint(name.strip(), scope_list, lifetime)

    async def add(store: KeyStore) -> None:
        await store.add(new.record)

    _run(config_file, add)
    click.echo(
        f"created key {new.record.id} ({new.record.name}); scopes: {' '.join(new.record.scopes)}; "
        f"expires: {new.record.expires_at or 'never'}. It is shown only now:",
        err=True,
    )
    click.echo(new.key)


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_config_option
def list_keys(as_json: bool, config_file: str | None) -> None:
    """List keys (never the key itself, nor its hash)."""

    async def all_keys(store: KeyStore) -> list[dict[str, object]]:
        return [r.public() for r in sorted(await store.all(), key=lambda r: r.created_at)]

    rows = _run(config_file, all_keys)
    if as_json or not sys.stdout.isatty():
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} API keys")
    for column in ("id", "name", "scopes", "created", "expires", "revoked"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["name"]),
            " ".join(r["scopes"]),
            str(r["created_at"]),  # type: ignore[arg-type]
            str(r["expires_at"] or "never"),
            str(r["revoked_at"] or ""),
        )
    Console().print(table)


@keys.command()
@click.argument("key_id")
@_config_option
def revoke(key_id: str, config_file: str | None) -> None:
    """Revoke a key by id; it stops working at once (file store: on the next request)."""

    async def do_revoke(store: KeyStore) -> str | None:
        record = await store.get(key_id)
        if record is None:
            return None
        if record.revoked_at is None:
            record = revoked(record)
            await store.replace(record)
        return record.revoked_at

    when = _run(config_file, do_revoke)
    if when is None:
        click.echo(f"mcpcloud: no API key with id {key_id!r} (see `mcpcloud keys list`)", err=True)
        sys.exit(1)
    click.echo(f"revoked key {key_id} at {when}", err=True)


@keys.command("export")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="Write to this file (mode 0600) instead of stdout."
)
@_config_option
def export_keys(output: str | None, config_file: str | None) -> None:
    """Write every key record (hashes, never keys) as JSON: the backup `keys import` restores."""

    async def dump(store: KeyStore) -> list[dict[str, object]]:
        return [r.to_json() for r in sorted(await store.all(), key=lambda r: r.created_at)]

    records = _run(config_file, dump)
    body = json.dumps({"version": 1, "keys": records}, indent=2) + "\n"
    if output is None:
        click.echo(body, nl=False)
    else:
        import os

        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(body)
    click.echo(f"exported {len(records)} key records; they hold key hashes: keep the file like a secret", err=True)


@keys.command("import")
@click.argument("source", type=click.File("r", encoding="utf-8"))
@click.option("--replace", is_flag=True, help="Overwrite records whose id already exists (default: keep them).")
@_config_option
def import_keys(source: Any, replace: bool, config_file: str | None) -> None:
    """Restore key records from a `keys export` file (`-` for stdin) into the configured store."""
    from mcpcloud.security.keystore import KeyRecord

    try:
        data = json.load(source)
        records = [KeyRecord.from_json(entry) for entry in data["keys"]]
        if data.get("version") != 1 or any(not (r.id and r.hash) for r in records):
            raise ValueError("unsupported version or a record without id/hash")
    except (ValueError, TypeError, KeyError) as exc:
        raise click.BadParameter(f"not a `mcpcloud keys export` file ({exc})", param_hint="SOURCE") from None

    async def restore(store: KeyStore) -> tuple[int, int]:
        added = kept = 0
        for record in records:
            if not replace and await store.get(record.id) is not None:
                kept += 1
                continue
            await store.add(record)
            added += 1
        return added, kept

    added, kept = _run(config_file, restore)
    click.echo(f"imported {added} key records; kept {kept} already present", err=True)
