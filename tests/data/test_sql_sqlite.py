"""The sql pack on SQLite: the same tools, read-only file access, and SQLite's own bypasses."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from data_helpers import connected, error_text, make_server, make_sqlite

SCRIPT = """
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price NUMERIC, payload BLOB);
CREATE UNIQUE INDEX t_name ON t (name);
CREATE TABLE child (id INTEGER PRIMARY KEY, t_id INTEGER REFERENCES t (id));
INSERT INTO t VALUES (1, 'a', 1.5, x'00ff'), (2, 'b', 2, NULL), (3, 'c', NULL, NULL);
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return make_sqlite(tmp_path / "app.db", SCRIPT)


def server_for(db: Path, **overrides: Any) -> Any:
    main = {"url": f"sqlite:///{db}", "max_rows": 2, "statement_timeout_seconds": 1, **overrides}
    return make_server("sql", {"sql": {"databases": {"main": main}}})


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


SQLITE_BYPASSES = [
    ("COMMIT; DROP TABLE t", "exactly one statement"),
    ("/* x */ DELETE FROM t", "DELETE is not a read-only statement"),
    ("SELECT 1; DELETE FROM t", "exactly one statement"),
    ("WITH x AS (SELECT 1) DELETE FROM t", "not a read-only statement"),
    ("ATTACH DATABASE '/tmp/other.db' AS other", "not a read-only statement"),
    ("PRAGMA writable_schema = ON", "not a read-only statement"),
    ("SELECT load_extension('/tmp/evil.so')", "function load_extension() is not allowed"),
    ("VACUUM INTO '/tmp/copy.db'", "not a read-only statement"),
]


@pytest.mark.parametrize(("sql", "reason"), SQLITE_BYPASSES, ids=[b[0][:30] for b in SQLITE_BYPASSES])
async def test_sqlite_bypass_refused_and_file_unchanged(db: Path, sql: str, reason: str) -> None:
    before = digest(db)
    async with connected(server_for(db)) as client:
        result = await client.call_tool("query", {"sql": sql})
        assert reason in error_text(result) and "refused:" in error_text(result)
        ok = await client.call_tool("query", {"sql": "SELECT count(*) AS n FROM t"})
        assert ok.structured_content["rows"] == [[3]]
    assert digest(db) == before


async def test_read_connection_cannot_write_even_without_the_guard(db: Path) -> None:
    from mcpcloud.packs.sql.engine import DatabaseError
    from mcpcloud.packs.sql.sqlite import SqliteEngine

    engine = SqliteEngine(str(db), 1)
    before = digest(db)
    with pytest.raises(DatabaseError, match="readonly|read-only"):
        await engine._run(lambda conn: conn.execute("DELETE FROM t"))
    with pytest.raises(DatabaseError, match="one statement at a time"):
        await engine._run(lambda conn: conn.execute("SELECT 1; DELETE FROM t"))
    assert digest(db) == before


async def test_runaway_query_times_out_and_infinite_rows_are_capped(db: Path) -> None:
    async with connected(server_for(db)) as client:
        endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
        capped = await client.call_tool("query", {"sql": endless + "SELECT x FROM c"})
        assert capped.structured_content["rows"] == [[1], [2]] and capped.structured_content["truncated"]
        slow = await client.call_tool("query", {"sql": endless + "SELECT count(*) FROM c"})
        assert "statement timeout of 1s" in error_text(slow)


async def test_tools_on_sqlite(db: Path) -> None:
    async with connected(server_for(db, allow_writes=True)) as client:
        tables = (await client.call_tool("list_tables", {})).structured_content["result"]
        assert [(t["name"], t["row_estimate"]) for t in tables] == [("child", 0), ("t", 3)]
        described = (await client.call_tool("describe_table", {"table": "t"})).structured_content
        assert [(c["name"], c["primary_key"], c["nullable"]) for c in described["columns"]] == [
            ("id", True, False),
            ("name", False, False),
            ("price", False, True),
            ("payload", False, True),
        ]
        assert any(i["name"] == "t_name" and i["unique"] for i in described["indexes"])
        fk = (await client.call_tool("describe_table", {"table": "child"})).structured_content["constraints"]
        assert {"name": None, "kind": "foreign key", "definition": "FOREIGN KEY (t_id) REFERENCES t(id)"} in fk
        page = (
            await client.call_tool("query", {"sql": "SELECT * FROM t WHERE id >= ? ORDER BY id", "params": [1]})
        ).structured_content
        assert page["rows"] == [[1, "a", 1.5, {"base64": "AP8="}], [2, "b", 2, None]]
        rest = await client.call_tool(
            "query", {"sql": "SELECT * FROM t WHERE id >= ? ORDER BY id", "params": [1], "cursor": page["next_cursor"]}
        )
        assert (
            rest.structured_content["rows"] == [[3, "c", None, None]] and rest.structured_content["next_cursor"] is None
        )
        named = await client.call_tool("query", {"sql": "SELECT id FROM t WHERE name = :n", "params": {"n": "c"}})
        assert named.structured_content["rows"] == [[3]]
        plan = await client.call_tool("explain", {"sql": "SELECT * FROM t WHERE name = ?", "params": ["a"]})
        assert "t_name" in plan.content[0].text
        wrote = await client.call_tool(
            "execute", {"sql": "INSERT INTO t (name) VALUES (?) RETURNING id", "params": ["d"]}
        )
        assert wrote.structured_content["rows"] == [[4]]
        dup = await client.call_tool("execute", {"sql": "INSERT INTO t (name) VALUES ('a')"})
        assert "UNIQUE constraint failed: t.name" in error_text(dup)
        missing = await client.call_tool("describe_table", {"table": 't"; DROP TABLE t; --'})
        assert "no table or view named" in error_text(missing)
        count = await client.call_tool("query", {"sql": "SELECT count(*) FROM t"})
        assert count.structured_content["rows"] == [[4]]


async def test_missing_sqlite_file_is_reported(tmp_path: Path) -> None:
    server = server_for(tmp_path / "absent.db")
    async with connected(server) as client:  # the server starts; readiness and the tools say what is wrong
        report = await server.health.report()
        # Named, without taking the replica out of service: `degraded` is the default readiness policy.
        assert report.degraded == ["sql"] and "cannot open SQLite file" in report.checks["sql"].detail
        assert "absent.db" in report.checks["sql"].detail
        result = await client.call_tool("list_tables", {})
        assert "cannot open SQLite file" in error_text(result)
    assert not (tmp_path / "absent.db").exists()
