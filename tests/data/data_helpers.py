"""Helpers of the data-pack tests (fixtures live in conftest.py beside this file)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg
from mcp import Client

from mcpcloud.config import load_settings
from mcpcloud.server import McpCloud, build

SESSION = uuid.uuid4().hex[:8]


def with_database(url: str, database: str) -> str:
    """A postgresql:// URL for another database on the server of `url` (TCP or Unix socket)."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    host = info.get("host") or "127.0.0.1"
    user = info.get("user") or "postgres"
    if host.startswith("/"):
        return f"postgresql://{user}@/{database}?host={host}"
    return f"postgresql://{user}@{host}:{info.get('port') or 5432}/{database}"


@asynccontextmanager
async def throwaway_database(server_url: str, label: str) -> AsyncIterator[str]:
    name = f"mcpcloud_test_{label}_{SESSION}_{uuid.uuid4().hex[:6]}"
    async with await psycopg.AsyncConnection.connect(server_url, autocommit=True) as admin:
        await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server_url, name)
    finally:
        async with await psycopg.AsyncConnection.connect(server_url, autocommit=True) as admin:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_server(packs: str, pack: dict[str, Any], **settings: Any) -> McpCloud:
    return build(load_settings(packs=packs, pack=pack, **settings))


@asynccontextmanager
async def connected(server: McpCloud) -> AsyncIterator[Client]:
    """The SDK's own client, in-process, through the whole pipeline and the server lifespan."""
    async with Client(server.mcp) as client:
        yield client


def make_sqlite(path: Path, script: str) -> Path:
    with sqlite3.connect(path) as conn:
        conn.executescript(script)
    conn.close()
    return path


def error_text(result: Any) -> str:
    """The text of a tool error result (fails the test if the call succeeded)."""
    assert result.is_error, f"expected an error, got {result.structured_content}"
    return str(result.content[0].text)
