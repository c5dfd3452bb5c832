"""The sql pack on a real PostgreSQL: tools, values, paging, and every known read-only bypass.

Each bypass must be refused with a message that says why, leave the data exactly as it was,
and leave the server answering the next query.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from data_helpers import connected, error_text, make_server

from mcpcloud.packs.sql.postgres import PostgresEngine

SCHEMA = """
CREATE TABLE t (
    id integer PRIMARY KEY, name text NOT NULL, price numeric(12, 2), created timestamptz,
    payload bytea, ref uuid, big bigint, span interval, tags text[]
);
CREATE INDEX t_name_idx ON t (name);
CREATE TABLE child (id serial PRIMARY KEY, t_id integer REFERENCES t (id), note text UNIQUE);
INSERT INTO t SELECT g, 'item ' || g, g * 1.25, '2024-01-02 03:04:05+00'::timestamptz + g * interval '1 day',
                     decode('00ff', 'hex'), ('6f1c2a4e-0000-4000-8000-00000000000' || g)::uuid, 9007199254740993 + g,
                     interval '90 minutes', ARRAY['a', 'b']
FROM generate_series(1, 5) g;
CREATE FUNCTION wipe() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN DELETE FROM t; RETURN 1; END $$;
CREATE SEQUENCE s;
ANALYZE t;
"""


@pytest.fixture(scope="module")
async def db(pg_db: str) -> str:
    async with await psycopg.AsyncConnection.connect(pg_db, autocommit=True) as conn:
        await conn.execute(
            "DROP TABLE IF EXISTS child, t CASCADE; DROP FUNCTION IF EXISTS wipe(); DROP SEQUENCE IF EXISTS s"
        )
        await conn.execute(SCHEMA)
    return pg_db


def sql_server(db: str, **overrides: Any) -> Any:
    main = {"url": db, "max_rows": 3, "statement_timeout_seconds": 1, **overrides}
    return make_server("sql", {"sql": {"databases": {"main": main}, "schema_cache_seconds": 0}})


async def snapshot(db: str) -> tuple[Any, ...]:
    async with await psycopg.AsyncConnection.connect(db) as conn:
        row = await (await conn.execute("SELECT count(*), md5(string_agg(t::text, ',' ORDER BY id)) FROM t")).fetchone()
        tables = await (await conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).fetchone()
        seq = await (await conn.execute("SELECT last_value, is_called FROM s")).fetchone()
        return (*row, *tables, *seq)  # type: ignore[misc]


async def call(server: Any, tool: str, args: dict[str, Any]) -> Any:
    async with connected(server) as client:
        return await client.call_tool(tool, args)


BYPASSES = [
    ("COMMIT; DROP TABLE t", "exactly one statement is accepted, got 2 (COMMIT, DROP)"),
    ("/* harmless */ DELETE FROM t", "DELETE is not a read-only statement"),
    ("-- just a comment\nDELETE FROM t WHERE id > 0", "DELETE is not a read-only statement"),
    ("SELECT 1; DELETE FROM t", "exactly one statement is accepted, got 2 (SELECT, DELETE)"),
    ("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", "data-modifying DELETE"),
    ("WITH x AS (UPDATE t SET name = 'p' RETURNING id) SELECT count(*) FROM x", "data-modifying UPDATE"),
    ("SELECT set_config('default_transaction_read_only', 'off', false)", "function set_config() is not allowed"),
    ("COPY t TO PROGRAM 'touch {marker}'", "COPY is not a read-only statement"),
    ("COPY (SELECT 1) TO PROGRAM 'touch {marker}'", "COPY is not a read-only statement"),
    ("SELECT * INTO t_copy FROM t", "SELECT ... INTO creates a table"),
    ("SELECT * FROM t FOR UPDATE", "row locks"),
    ("SELECT nextval('s')", "function nextval() is not allowed"),
    ("SELECT query_to_xml('DELETE FROM t RETURNING 1', true, true, '')", "function query_to_xml() is not allowed"),
    ("BEGIN READ WRITE", "is not a read-only statement"),
    ("SET default_transaction_read_only = off", "is not a read-only statement"),
    ("DO $$ BEGIN DELETE FROM t; END $$", "not a read-only statement"),
    ("EXPLAIN ANALYZE DELETE FROM t", "EXPLAIN is not a read-only statement"),
]


@pytest.mark.parametrize(("sql", "reason"), BYPASSES, ids=[b[0][:40] for b in BYPASSES])
async def test_bypass_is_refused_and_data_unchanged(db: str, sql: str, reason: str, tmp_path: Path) -> None:
    marker = tmp_path / f"pwned-{uuid.uuid4().hex}"
    server = sql_server(db)
    before = await snapshot(db)
    result = await call(server, "query", {"sql": sql.format(marker=marker)})
    assert reason in error_text(result)
    assert "refused:" in error_text(result)
    assert await snapshot(db) == before
    assert not marker.exists()
    ok = await call(server, "query", {"sql": "SELECT count(*) AS n FROM t"})
    assert ok.structured_content["rows"] == [[5]]


async def test_write_through_a_function_is_refused_by_the_read_only_transaction(db: str) -> None:
    before = await snapshot(db)
    refused = await call(sql_server(db), "query", {"sql": "SELECT wipe()"})
    assert "function wipe() is not allowed" in error_text(refused)
    assert 'add "wipe" to allowed_functions in [pack.sql.databases.main]' in error_text(refused)
    # An operator who wrongly vouches for it still meets the read-only transaction.
    result = await call(sql_server(db, allowed_functions=["wipe"]), "query", {"sql": "SELECT wipe()"})
    message = error_text(result)
    assert "read-only transaction" in message and "DELETE" in message
    assert await snapshot(db) == before


async def test_pg_sleep_times_out(db: str) -> None:
    result = await call(sql_server(db), "query", {"sql": "SELECT pg_sleep(60)"})
    assert "statement timeout of 1s" in error_text(result)


async def test_huge_generate_series_is_capped_by_the_database(db: str) -> None:
    # Without the LIMIT pushed into the database this would run into the 1 s statement timeout.
    result = await call(sql_server(db), "query", {"sql": "SELECT generate_series(1, 1000000000000) AS g"})
    page = result.structured_content
    assert not result.is_error
    assert page["rows"] == [[1], [2], [3]]
    assert page["truncated"] is True and page["truncated_by"] == "max_rows"


async def test_huge_generate_series_in_from_is_stopped_by_the_timeout(db: str) -> None:
    # In FROM, PostgreSQL materialises a set-returning function before any LIMIT applies.
    result = await call(sql_server(db), "query", {"sql": "SELECT g FROM generate_series(1, 1000000000000) g"})
    assert "statement timeout of 1s" in error_text(result)
    ok = await call(sql_server(db), "query", {"sql": "SELECT 1 AS one"})
    assert ok.structured_content["rows"] == [[1]]


async def test_second_lock_holds_without_the_guard(db: str) -> None:
    """Straight to the engine, skipping the parser: the transaction alone must still refuse."""
    engine = PostgresEngine(
        db, None, timeout_seconds=1, min_size=1, max_size=1, pool_timeout_seconds=5, connect_timeout_seconds=5
    )
    await engine.open()
    try:
        before = await snapshot(db)
        with pytest.raises(Exception, match="read-only transaction"):
            await engine.read("SELECT wipe()", None, 10, 0, 100_000)
        await engine.read("SELECT set_config('default_transaction_read_only', 'off', false)", None, 10, 0, 100_000)
        await engine.read("SELECT set_config('search_path', 'elsewhere', false)", None, 10, 0, 100_000)
        # The same pooled connection (max_size=1) next: session settings were reset, the transaction is read-only.
        rows = await engine.read(
            "SELECT current_setting('transaction_read_only'), current_setting('search_path')", None, 10, 0, 100_000
        )
        assert rows.rows == [["on", '"$user", public']]
        with pytest.raises(Exception, match="read-only transaction"):
            await engine.read("SELECT wipe()", None, 10, 0, 100_000)
        assert await snapshot(db) == before
    finally:
        await engine.close()


async def test_query_with_bound_parameters(db: str) -> None:
    server = sql_server(db)
    positional = await call(
        server,
        "query",
        {"sql": "SELECT id, name FROM t WHERE id = %s OR name = %s ORDER BY id", "params": [2, "item 4"]},
    )
    assert positional.structured_content["rows"] == [[2, "item 2"], [4, "item 4"]]
    named = await call(
        server, "query", {"sql": "SELECT id FROM t WHERE name = %(n)s", "params": {"n": "x'; DROP TABLE t; --"}}
    )
    assert named.structured_content["rows"] == []
    missing = await call(server, "query", {"sql": "SELECT id FROM t WHERE id = %s", "params": []})
    assert "PostgreSQL error" in error_text(missing) or "parameter" in error_text(missing).lower()


async def test_json_safe_values(db: str) -> None:
    result = await call(
        sql_server(db), "query", {"sql": "SELECT price, created, payload, ref, big, span, tags FROM t WHERE id = 1"}
    )
    assert result.structured_content["rows"] == [
        [
            "1.25",
            "2024-01-03T03:04:05+00:00",
            {"base64": "AP8="},
            "6f1c2a4e-0000-4000-8000-000000000001",
            "9007199254740994",
            5400.0,
            ["a", "b"],
        ]
    ]


async def test_cursor_pagination_walks_every_row_once(db: str) -> None:
    server = sql_server(db)
    seen: list[int] = []
    cursor = None
    async with connected(server) as client:
        for _ in range(5):
            args = {"sql": "SELECT id FROM t ORDER BY id"} | ({"cursor": cursor} if cursor else {})
            page = (await client.call_tool("query", args)).structured_content
            seen += [row[0] for row in page["rows"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == [1, 2, 3, 4, 5]
        wrong = await client.call_tool("query", {"sql": "SELECT name FROM t ORDER BY id", "cursor": page_cursor(seen)})
        assert "cursor belongs to a different query" in error_text(wrong)
        garbage = await client.call_tool("query", {"sql": "SELECT id FROM t", "cursor": "not-a-cursor"})
        assert "cursor is not one this server issued" in error_text(garbage)


def page_cursor(_: list[int]) -> str:
    from mcpcloud.packs.sql.paging import encode_cursor, query_digest

    return encode_cursor(query_digest("main", "SELECT id FROM t ORDER BY id", None), 3)


async def test_result_size_cap(db: str) -> None:
    server = sql_server(db, max_result_bytes=120, max_rows=100)
    page = (
        await call(server, "query", {"sql": "SELECT id, repeat('x', 30) AS pad FROM t ORDER BY id"})
    ).structured_content
    assert page["truncated_by"] == "max_result_bytes"
    assert 0 < page["row_count"] < 5 and page["next_cursor"]
    too_big = await call(server, "query", {"sql": "SELECT repeat('x', 500) AS pad"})
    assert "larger than max_result_bytes" in error_text(too_big)


async def test_list_and_describe_tables(db: str) -> None:
    server = sql_server(db)
    async with connected(server) as client:
        tables = (await client.call_tool("list_tables", {})).structured_content["result"]
        by_name = {t["name"]: t for t in tables}
        assert by_name["t"]["row_estimate"] == 5 and by_name["t"]["kind"] == "table"
        assert by_name["child"]["schema_name"] == "public"
        described = (await client.call_tool("describe_table", {"table": "child"})).structured_content
        columns = {c["name"]: c for c in described["columns"]}
        assert columns["id"]["primary_key"] and columns["id"]["default"].startswith("nextval")
        assert columns["t_id"]["type"] == "integer" and columns["t_id"]["nullable"]
        kinds = {c["kind"]: c["definition"] for c in described["constraints"]}
        assert kinds["foreign key"] == "FOREIGN KEY (t_id) REFERENCES t(id)"
        assert "unique" in kinds
        t_indexes = (await client.call_tool("describe_table", {"table": "public.t"})).structured_content["indexes"]
        assert any(i["name"] == "t_name_idx" and not i["unique"] for i in t_indexes)
        missing = await client.call_tool("describe_table", {"table": "nope"})
        assert "no table or view named 'nope'" in error_text(missing)


async def test_explain_returns_the_plan_without_running(db: str) -> None:
    before = await snapshot(db)
    result = await call(sql_server(db), "explain", {"sql": "SELECT * FROM t WHERE name = %s", "params": ["item 1"]})
    assert "Plan" in result.content[0].text
    refused = await call(sql_server(db), "explain", {"sql": "DELETE FROM t"})
    assert "refused: DELETE is not a read-only statement" in error_text(refused)
    assert await snapshot(db) == before


async def test_execute_is_absent_unless_enabled(db: str) -> None:
    async with connected(sql_server(db)) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert {"list_tables", "describe_table", "query", "explain"} <= names
    assert "execute" not in names


async def test_execute_writes_where_enabled(db: str) -> None:
    server = make_server(
        "sql",
        {
            "sql": {
                "databases": {
                    "main": {"url": db},
                    "rw": {"url": db, "allow_writes": True, "statement_timeout_seconds": 1},
                }
            }
        },
    )
    policy = server.registry.get("execute")
    assert policy is not None and policy.scopes == ("sql:write",) and policy.annotations.destructive_hint
    async with connected(server) as client:
        inserted = await client.call_tool(
            "execute",
            {"sql": "INSERT INTO child (t_id, note) VALUES (%s, %s) RETURNING id, note", "params": [1, "hello"]},
        )
        assert inserted.structured_content["rows_affected"] == 1
        assert inserted.structured_content["rows"][0][1] == "hello"
        read_only = await client.call_tool("execute", {"sql": "DELETE FROM child", "database": "main"})
        assert "database 'main' is read-only" in error_text(read_only)
        two = await client.call_tool("execute", {"sql": "DELETE FROM child; DROP TABLE t"})
        assert "exactly one statement" in error_text(two)
        shell = await client.call_tool("execute", {"sql": "COPY t FROM PROGRAM 'id'"})
        assert "refused: COPY reads or writes server files or runs programs" in error_text(shell)
        files = await client.call_tool(
            "execute", {"sql": "INSERT INTO child (note) SELECT pg_read_file('/etc/hostname')"}
        )
        assert "function pg_read_file() is not allowed" in error_text(files)
        slow = await client.call_tool("execute", {"sql": "UPDATE child SET note = note WHERE pg_sleep(5) IS NOT NULL"})
        assert "statement timeout of 1s" in error_text(slow)
        bad = await client.call_tool("execute", {"sql": "INSERT INTO child (t_id) VALUES (999)"})
        assert "foreign key" in error_text(bad)
        deleted = await client.call_tool("execute", {"sql": "DELETE FROM child WHERE note = 'hello'"})
        assert deleted.structured_content["rows_affected"] == 1


async def test_unknown_database_and_unreachable_server(db: str) -> None:
    server = make_server(
        "sql",
        {
            "sql": {
                "databases": {
                    "main": {"url": db},
                    "down": {
                        "url": "postgresql://postgres@127.0.0.1:1/x",
                        "connect_timeout_seconds": 1,
                        "pool_timeout_seconds": 60,
                    },
                }
            }
        },
    )
    async with connected(server) as client:
        unknown = await client.call_tool("query", {"sql": "SELECT 1", "database": "nope"})
        assert "unknown database 'nope': configured are main, down" in error_text(unknown)
        ambiguous = await client.call_tool("query", {"sql": "SELECT 1"})
        assert "database is required" in error_text(ambiguous)
        started = time.monotonic()
        down = await client.call_tool("query", {"sql": "SELECT 1", "database": "down"})
        # The reason, at once: not "no connection free" after the 60 s pool timeout (generous bound: 20 s).
        assert error_text(down).startswith("Error executing tool query: database unreachable: ")
        assert "Connection refused" in error_text(down)
        assert time.monotonic() - started < 20
        report = await server.health.report()
        # Degraded by default: named, but the replica stays in service (tests/data/test_readiness_policy.py).
        assert report.ready and report.degraded == ["sql"] and "database 'down'" in report.checks["sql"].detail
