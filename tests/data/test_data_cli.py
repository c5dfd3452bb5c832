"""The command line around the data packs: `cache clear`, config errors and secret redaction,
and the packs served end to end over stdio to the SDK's own client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import redis
from data_helpers import make_sqlite
from mcp import Client, StdioServerParameters

MCPCLOUD = str(Path(sys.executable).with_name("mcpcloud"))


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MCPCLOUD_")}
    return subprocess.run(
        [MCPCLOUD, *args], check=False, capture_output=True, text=True, env={**clean, **(env or {})}, timeout=120
    )


def test_cache_clear_on_redis(redis_url: str, redis_prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    for key in ("query:1", "query:2", "list_tables:1"):
        client.set(redis_prefix + key, b"x", ex=60)
    client.set(redis_prefix.rstrip(":") + "-other:query:1", b"keep", ex=60)
    env = {
        "MCPCLOUD_CACHE__BACKEND": "redis",
        "MCPCLOUD_CACHE__REDIS_URL": redis_url,
        "MCPCLOUD_CACHE__NAMESPACE": redis_prefix,
    }
    one_tool = run_cli("cache", "clear", "--tool", "query", env=env)
    assert one_tool.returncode == 0 and one_tool.stdout.strip() == "cleared 2 cached results of query"
    assert client.get(redis_prefix + "list_tables:1") == b"x"
    everything = run_cli("cache", "clear", env=env)
    assert everything.stdout.strip() == "cleared 1 cached result"
    assert client.get(redis_prefix.rstrip(":") + "-other:query:1") == b"keep"
    client.delete(redis_prefix.rstrip(":") + "-other:query:1")
    client.close()


def test_cache_clear_explains_what_it_cannot_do() -> None:
    memory = run_cli("cache", "clear")
    assert memory.returncode == 1 and "cache.backend is 'memory'" in memory.stderr
    unreachable = run_cli(
        "cache",
        "clear",
        env={"MCPCLOUD_CACHE__BACKEND": "redis", "MCPCLOUD_CACHE__REDIS_URL": "redis://:s3cret-pw@127.0.0.1:1/0"},
    )
    assert unreachable.returncode == 1 and "cannot reach the Redis cache" in unreachable.stderr
    assert "s3cret-pw" not in unreachable.stderr


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(body)
    return path


def test_config_errors_name_the_key(tmp_path: Path) -> None:
    cases = [
        (
            '[pack.sql.databases.main]\nurl = "postgresql://u:pw@h/db"\n',
            "pack.sql.databases.main.url",
            "not in the URL",
        ),
        ('[pack.sql.databases.main]\nurl = "mysql://h/db"\n', "pack.sql.databases.main.url", "unsupported scheme"),
        (
            '[pack.sql.databases.main]\nurl = "sqlite:///a.db"\nbogus = 1\n',
            "pack.sql.databases.main.bogus",
            "unknown setting",
        ),
        ("[pack.sql]\n", "pack.sql", "databases: configure at least one"),
        ('[pack.vectors]\nbackend = "pgvector"\n', "pack.vectors", "url is required"),
        ('[pack.vectors.embeddings]\nprovider = "openai"\n', "pack.vectors.embeddings", "embeddings.model is required"),
    ]
    for body, key, reason in cases:
        result = run_cli(
            "config",
            "--packs",
            "vectors" if "vectors" in body else "sql",
            "--config",
            str(write_config(tmp_path, body)),
        )
        assert result.returncode == 2, body
        assert key in result.stderr and reason in result.stderr, result.stderr
        assert "pw@" not in result.stderr


def test_passwords_come_from_files_and_are_never_printed(tmp_path: Path) -> None:
    secret = tmp_path / "pg-password"
    secret.write_text("very-secret-pw\n")
    body = (
        f'[pack.sql.databases.main]\nurl = "postgresql://app@127.0.0.1:1/app"\npassword_file = "{secret}"\n'
        f'[pack.vectors]\npath = "{tmp_path / "v.db"}"\n[pack.vectors.embeddings]\nprovider = "openai"\n'
        'model = "m"\napi_key = "sk-very-secret"\n[cache]\nredis_url = "redis://:redis-secret@h:6379/0"\n'
    )
    result = run_cli("config", "--packs", "sql,vectors", "--config", str(write_config(tmp_path, body)))
    assert result.returncode == 0, result.stderr
    for leaked in ("very-secret-pw", "sk-very-secret", "redis-secret"):
        assert leaked not in result.stdout + result.stderr
    shown = json.loads(result.stdout)
    assert shown["pack"]["vectors"]["embeddings"]["api_key"] == "**********"
    missing = run_cli(
        "config",
        "--packs",
        "sql",
        "--config",
        str(write_config(tmp_path, '[pack.sql.databases.main]\nurl = "postgresql://a@h/d"\npassword_file = "/nope"\n')),
    )
    assert missing.returncode == 2 and "password_file: cannot read '/nope'" in missing.stderr


async def test_packs_end_to_end_over_stdio(tmp_path: Path) -> None:
    db = make_sqlite(
        tmp_path / "shop.db",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, total NUMERIC);INSERT INTO orders VALUES (1, 9.5), (2, 20);",
    )
    config = write_config(
        tmp_path,
        f'packs = ["sql", "vectors"]\n[pack.sql.databases.shop]\nurl = "sqlite:///{db}"\n'
        f'[pack.vectors]\npath = "{tmp_path / "v.db"}"\n',
    )
    params = StdioServerParameters(
        command=MCPCLOUD,
        args=["serve", "--transport", "stdio", "--config", str(config)],
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)},
    )
    async with Client(params) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert {"query", "list_tables", "search", "upsert_documents"} <= names and "execute" not in names
        page = await client.call_tool(
            "query", {"sql": "SELECT id, total FROM orders WHERE total > ? ORDER BY id", "params": [5]}
        )
        assert page.structured_content["rows"] == [[1, 9.5], [2, 20]]
        refused = await client.call_tool("query", {"sql": "/**/ DELETE FROM orders"})
        assert refused.is_error and "refused: DELETE is not a read-only statement" in refused.content[0].text
        docs: list[dict[str, Any]] = [
            {"id": "o1", "text": "refund for a damaged parcel"},
            {"id": "o2", "text": "the galaxy is far away"},
        ]
        await client.call_tool("upsert_documents", {"collection": "tickets", "documents": docs})
        hits = await client.call_tool(
            "search", {"collection": "tickets", "query": "broken package, money back", "k": 1}
        )
        assert hits.structured_content["result"][0]["id"] == "o1"
    assert (await_rows(db)) == 2


def await_rows(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM orders").fetchone()[0])


async def test_example_config_serves_the_demo_data() -> None:
    """`make run-data`: examples/data.toml on the demo files, no database server involved."""
    root = Path(__file__).resolve().parents[2]
    await anyio.run_process([sys.executable, str(root / "examples/data/make_demo.py")], cwd=root)
    from mcpcloud.config import load_settings
    from mcpcloud.server import build

    previous = os.getcwd()
    os.chdir(root)
    try:
        server = build(load_settings(root / "examples/data.toml"))
        os.environ.pop("MCPCLOUD_CONFIG", None)
        async with Client(server.mcp) as client:
            orders = await client.call_tool(
                "query",
                {
                    "sql": "SELECT c.name, sum(o.quantity * p.price) AS spent FROM orders o "
                    "JOIN customers c ON c.id = o.customer_id JOIN products p "
                    "ON p.id = o.product_id GROUP BY c.name ORDER BY spent DESC"
                },
            )
            assert orders.structured_content["rows"][0][0] == "Ada Lovelace"
            hits = await client.call_tool("search", {"collection": "faq", "query": "refund a product", "k": 1})
            assert hits.structured_content["result"][0]["id"] == "returns"
    finally:
        os.chdir(previous)
