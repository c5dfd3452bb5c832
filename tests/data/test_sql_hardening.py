"""The sql pack against an outside audit (issue 14): side effects, one statement per call at the
protocol level, memory, cancellation, the `execute` guard, and honest messages.

Every test checks the database afterwards: data and sequences (snapshot), locks (pg_locks),
replication slots, and, for memory, the server process's peak RSS from /proc.
"""

from __future__ import annotations

import hashlib
import logging
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import psycopg
import pytest
from data_helpers import connected, error_text, make_server, make_sqlite
from tests.conftest import MCPCLOUD, ROOT, server_env, spawn_server, wait_ready
from tests.wire import modern_call

from mcpcloud.errors import ConfigError
from mcpcloud.packs.sql.engine import DatabaseError
from mcpcloud.packs.sql.postgres import PostgresEngine
from mcpcloud.packs.sql.sqlite import SqliteEngine

LOCK_KEY = 4242

PG_SCHEMA = """
DROP TABLE IF EXISTS t CASCADE; DROP SEQUENCE IF EXISTS s; DROP FUNCTION IF EXISTS wipe();
CREATE TABLE t (id integer PRIMARY KEY, name text NOT NULL);
INSERT INTO t SELECT g, 'item ' || g FROM generate_series(1, 5) g;
CREATE SEQUENCE s;
CREATE FUNCTION wipe() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN DELETE FROM t; RETURN 1; END $$;
"""

SQLITE_SCRIPT = """
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO t VALUES (1, 'item 1'), (2, 'item 2'), (3, 'item 3'), (4, 'item 4'), (5, 'item 5');
"""


@pytest.fixture(scope="module")
async def pg(pg_server: str) -> Any:
    from data_helpers import throwaway_database

    async with throwaway_database(pg_server, "hard") as url:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await conn.execute(PG_SCHEMA)
        yield url
        async with await psycopg.AsyncConnection.connect(pg_server, autocommit=True) as conn:
            # Should a regression let one through, leave the shared server as it was.
            await conn.execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE 'mcpcloud_audit%'"
            )


@pytest.fixture
def lite(tmp_path: Path) -> Path:
    return make_sqlite(tmp_path / "app.db", SQLITE_SCRIPT)


def pg_server_for(url: str, **overrides: Any) -> Any:
    limits = overrides.pop("limits", None)
    main = {"url": url, "statement_timeout_seconds": 5, **overrides}
    settings = {"limits": limits} if limits else {}
    return make_server("sql", {"sql": {"databases": {"main": main}, "schema_cache_seconds": 0}}, **settings)


def lite_server_for(path: Path, **overrides: Any) -> Any:
    limits = overrides.pop("limits", None)
    main = {"url": f"sqlite:///{path}", "statement_timeout_seconds": 5, **overrides}
    settings = {"limits": limits} if limits else {}
    return make_server("sql", {"sql": {"databases": {"main": main}}}, **settings)


async def pg_state(url: str) -> tuple[Any, ...]:
    """Data, the sequence, advisory locks on our key, replication slots: everything a side effect could touch."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        data = await (
            await conn.execute("SELECT count(*), md5(string_agg(t::text, ',' ORDER BY id)) FROM t")
        ).fetchone()
        seq = await (await conn.execute("SELECT last_value, is_called FROM s")).fetchone()
        return (*data, *seq, await advisory_locks(conn), await replication_slots(conn))  # type: ignore[misc]


async def advisory_locks(conn: psycopg.AsyncConnection[Any]) -> int:
    row = await (await conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s", [LOCK_KEY]
    )).fetchone()  # fmt: skip
    return int(row[0]) if row else -1


async def replication_slots(conn: psycopg.AsyncConnection[Any]) -> int:
    row = await (
        await conn.execute("SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'mcpcloud_audit%'")
    ).fetchone()
    return int(row[0]) if row else -1


@asynccontextmanager
async def one_connection_engine(url: str) -> AsyncIterator[PostgresEngine]:
    """The engine alone (no parser in front), with one pooled connection so every call reuses it."""
    engine = PostgresEngine(
        url, None, timeout_seconds=5, min_size=1, max_size=1, pool_timeout_seconds=5, connect_timeout_seconds=5
    )
    await engine.open()
    try:
        yield engine
    finally:
        await engine.close()


def lite_state(path: Path) -> tuple[Any, ...]:
    """The rows, and the file byte for byte (a read-only connection must not touch it at all)."""
    with sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True) as conn:
        rows = tuple(conn.execute("SELECT count(*), group_concat(id || name, ',') FROM t").fetchone())
    conn.close()
    return (*rows, hashlib.sha256(path.read_bytes()).hexdigest())


# ---------------------------------------------------------------------------------------------
# 1. Side effects that outlive the read-only transaction: an allow-list, and clean connections.

SIDE_EFFECTS = [
    f"SELECT pg_advisory_lock_shared({LOCK_KEY})",
    f"SELECT pg_advisory_lock({LOCK_KEY})",
    f"SELECT * FROM pg_try_advisory_lock({LOCK_KEY})",
    f"SELECT pg_catalog.pg_advisory_lock({LOCK_KEY})",
    "SELECT pg_create_physical_replication_slot('mcpcloud_audit_slot')",
    "SELECT pg_create_logical_replication_slot('mcpcloud_audit_logical', 'test_decoding')",
    "SELECT pg_stat_reset()",
    "SELECT pg_backup_start('mcpcloud audit')",
    "SELECT nextval('s')",
    "SELECT setval('s', 99)",
    "SELECT txid_current()",
    "SELECT pg_notify('audit', 'x')",
    "SELECT public.wipe()",
    "SELECT count(*) FROM t WHERE id > (SELECT lastval())",
]


@pytest.mark.parametrize("sql", SIDE_EFFECTS, ids=[s[:45] for s in SIDE_EFFECTS])
async def test_functions_off_the_allow_list_are_refused_by_name_with_the_fix(pg: str, sql: str) -> None:
    before = await pg_state(pg)
    async with connected(pg_server_for(pg)) as client:
        result = await client.call_tool("query", {"sql": sql})
        message = error_text(result)
        assert "refused: function " in message and "is not allowed: query calls only functions known" in message
        assert "to allowed_functions in [pack.sql.databases.main]" in message
        ok = await client.call_tool("query", {"sql": "SELECT count(*) AS n FROM t"})
        assert ok.structured_content["rows"] == [[5]]
    assert await pg_state(pg) == before


async def test_everyday_functions_stay_allowed(pg: str) -> None:
    sql = (
        "SELECT upper(name) AS u, length(name) AS l, coalesce(NULL, id) AS c, round(id * 1.5, 1)::text AS r, "
        "date_trunc('day', timestamp '2024-01-02 03:04') AS d, to_char(42, 'FM999') AS f, split_part(name, ' ', 2) AS p, "
        "CASE WHEN id > 1 THEN 'big' ELSE 'small' END AS k, jsonb_build_object('id', id)->>'id' AS j "
        "FROM t WHERE id = 1"
    )
    async with connected(pg_server_for(pg)) as client:
        page = (await client.call_tool("query", {"sql": sql})).structured_content
        agg = await client.call_tool("query", {"sql": "SELECT string_agg(name, ',' ORDER BY id) AS s, count(*) FROM t"})
    assert page["rows"] == [["ITEM 1", 6, 1, "1.5", "2024-01-02T00:00:00", "42", "1", "small", "1"]]
    assert agg.structured_content["rows"] == [["item 1,item 2,item 3,item 4,item 5", 5]]


async def test_a_vouched_function_is_allowed_by_configuration(pg: str) -> None:
    async with connected(pg_server_for(pg, allowed_functions=["pg_backend_pid"])) as client:
        ok = await client.call_tool("query", {"sql": "SELECT pg_backend_pid() > 0 AS yes"})
    assert ok.structured_content["rows"] == [[True]]


async def test_a_pooled_connection_comes_back_clean_even_past_the_parser(pg: str) -> None:
    """Straight to the engine (no parser): a session lock, setting and temp table must not survive the call."""
    async with one_connection_engine(pg) as engine:
        before = await pg_state(pg)
        taken = await engine.read(f"SELECT pg_advisory_lock_shared({LOCK_KEY}) IS NULL AS x", None, 10, 0, 100_000)
        assert taken.rows == [[False]]  # it really ran: pg_advisory_lock_shared returns void, not NULL-able text
        await engine.read("SELECT set_config('search_path', 'elsewhere', false)", None, 10, 0, 100_000)
        assert await pg_state(pg) == before  # no advisory lock held by the idle pooled connection
        # max_size=1: the very same connection, reset.
        again = await engine.read("SELECT current_setting('search_path') AS p", None, 10, 0, 100_000)
        assert again.rows == [['"$user", public']]
        async with await psycopg.AsyncConnection.connect(pg, autocommit=True) as other:
            await other.execute(f"SELECT pg_advisory_lock({LOCK_KEY})")  # an exclusive lock is granted at once
            await other.execute(f"SELECT pg_advisory_unlock({LOCK_KEY})")


async def test_superuser_role_is_warned_about_and_a_least_privilege_role_is_not(
    pg: str, caplog: pytest.LogCaptureFixture
) -> None:
    role = f"mcpcloud_reader_{uuid.uuid4().hex[:8]}"
    dbname = psycopg.conninfo.conninfo_to_dict(pg)["dbname"]
    async with await psycopg.AsyncConnection.connect(pg, autocommit=True) as admin:
        # The least-privilege role of docs/DATA.md.
        await admin.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOREPLICATION NOCREATEDB NOCREATEROLE NOINHERIT")
        await admin.execute(f'GRANT CONNECT ON DATABASE "{dbname}" TO {role}')
        await admin.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        await admin.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    try:
        with caplog.at_level(logging.WARNING, logger="mcpcloud.sql"):
            async with connected(pg_server_for(pg)) as client:
                await client.call_tool("query", {"sql": "SELECT 1 AS one"})
        assert any("SUPERUSER" in r.getMessage() and "least-privilege" in r.getMessage() for r in caplog.records)
        caplog.clear()
        reader_url = pg.replace("postgres@", f"{role}@", 1)
        with caplog.at_level(logging.WARNING, logger="mcpcloud.sql"):
            async with connected(pg_server_for(reader_url)) as client:
                ok = await client.call_tool("query", {"sql": "SELECT count(*) AS n FROM t"})
        assert ok.structured_content["rows"] == [[5]]
        assert not [r for r in caplog.records if "least-privilege" in r.getMessage()]
    finally:
        async with await psycopg.AsyncConnection.connect(pg, autocommit=True) as admin:
            await admin.execute(f"DROP OWNED BY {role}")
            await admin.execute(f"DROP ROLE {role}")


# ---------------------------------------------------------------------------------------------
# 2. One statement per call at the protocol level, even when the parser is bypassed.

PAST_THE_PARSER = "SELECT 1) AS x; COMMIT; DELETE FROM t; SELECT * FROM (SELECT 1"
TWO_STATEMENTS = "SELECT 1; COMMIT; DELETE FROM t"


async def test_postgres_runs_one_statement_per_call_even_without_the_parser(pg: str) -> None:
    async with one_connection_engine(pg) as engine:
        before = await pg_state(pg)
        for attempt in (
            engine.read(PAST_THE_PARSER, None, 10, 0, 100_000),
            engine.read(TWO_STATEMENTS, None, 10, 0, 100_000),
            engine.explain(TWO_STATEMENTS, None),
            engine.write(TWO_STATEMENTS, None, 10),
            engine.write("DELETE FROM t WHERE id = 1; DELETE FROM t", None, 10),
        ):
            with pytest.raises(DatabaseError, match="multiple commands|syntax error"):
                await attempt
        assert await pg_state(pg) == before


async def test_sqlite_runs_one_statement_per_call_even_without_the_parser(lite: Path) -> None:
    engine = SqliteEngine(str(lite), 5)
    before = lite_state(lite)
    for attempt in (
        engine.read(PAST_THE_PARSER, None, 10, 0, 100_000),
        engine.read(TWO_STATEMENTS, None, 10, 0, 100_000),
        engine.explain(TWO_STATEMENTS, None),
        engine.write(TWO_STATEMENTS, None, 10),
    ):
        with pytest.raises(DatabaseError, match="one statement at a time|syntax error|incomplete input"):
            await attempt
    assert lite_state(lite) == before


# ---------------------------------------------------------------------------------------------
# 3. Memory: rows are measured by the database against the page budget; values capped in SQLite.

PAGE_ORDER_SQL = "SELECT id, repeat('x', 300) AS pad FROM t ORDER BY id DESC"


async def test_postgres_pages_keep_order_and_stop_at_the_byte_budget(pg: str) -> None:
    async with connected(pg_server_for(pg, max_result_bytes=1000, max_rows=100)) as client:
        first = (await client.call_tool("query", {"sql": PAGE_ORDER_SQL})).structured_content
        second = (
            await client.call_tool("query", {"sql": PAGE_ORDER_SQL, "cursor": first["next_cursor"]})
        ).structured_content
        big = await client.call_tool("query", {"sql": "SELECT repeat('x', 5000) AS big"})
    assert [r[0] for r in first["rows"]] == [5, 4, 3] and first["truncated_by"] == "max_result_bytes"
    assert [r[0] for r in second["rows"]] == [2, 1] and not second["truncated"]
    assert "row 0 alone is larger than max_result_bytes (1000)" in error_text(big)


async def test_sqlite_pages_keep_order_and_values_are_capped_inside_sqlite(lite: Path) -> None:
    sql = "SELECT id, printf('%.300c', 'x') AS pad FROM t ORDER BY id DESC"
    async with connected(lite_server_for(lite, max_result_bytes=1000, max_rows=100)) as client:
        first = (await client.call_tool("query", {"sql": sql})).structured_content
        huge = await client.call_tool("query", {"sql": "SELECT zeroblob(200000000) AS z"})
        wide = await client.call_tool("query", {"sql": "SELECT " + ", ".join(["zeroblob(900)"] * 20)})
    assert [r[0] for r in first["rows"]] == [5, 4, 3] and first["truncated_by"] == "max_result_bytes"
    assert "a value or row is larger than max_result_bytes (SQLite stopped building it)" in error_text(huge)
    assert "larger than max_result_bytes" in error_text(wide)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


def call_over_http(url: str, sql: str, request_id: int = 1, timeout: float = 60) -> dict[str, Any]:
    headers, body = modern_call("query", {"sql": sql}, request_id)
    return httpx.post(url, json=body, headers=headers, timeout=timeout).json()


def serve_sql(tmp_path: Path, url: str, *extra: str) -> Any:
    config = tmp_path / "sql.toml"
    config.write_text(
        'packs = ["sql"]\n[pack.sql.databases.main]\n'
        f'url = "{url}"\nstatement_timeout_seconds = 60\nmax_result_bytes = 1000000\n' + "\n".join(extra) + "\n"
    )
    return spawn_server(tmp_path, "--config", str(config))


MEMORY_ATTACKS = {
    "postgres": "SELECT repeat('x', 20000000) AS big FROM generate_series(1, 10)",
    "sqlite": "SELECT zeroblob(200000000) AS big",
}

# Generous: the audit measured peaks of 704 MB (PostgreSQL) and 1.09 GB (SQLite, from 118 MB) on these
# attacks; a page is bounded by max_result_bytes (1 MB here) plus Python's per-object overhead.
MEMORY_GROWTH_BOUND_MB = 50


@pytest.mark.parametrize("dialect", ["postgres", "sqlite"])
def test_one_call_cannot_take_more_than_a_page_of_memory(pg: str, tmp_path: Path, dialect: str) -> None:
    url = pg if dialect == "postgres" else f"sqlite:///{make_sqlite(tmp_path / 'm.db', SQLITE_SCRIPT)}"
    server = wait_ready(serve_sql(tmp_path, url))
    try:
        assert "result" in call_over_http(server.url, "SELECT count(*) AS n FROM t")  # warm: imports, pool, caches
        baseline = peak_rss_mb(server.process.pid)
        answer = call_over_http(server.url, MEMORY_ATTACKS[dialect], 2)
        text = answer["result"]["content"][0]["text"]
        assert answer["result"]["isError"] and ("larger than" in text)
        growth = peak_rss_mb(server.process.pid) - baseline
        assert growth < MEMORY_GROWTH_BOUND_MB, f"peak RSS grew {growth:.0f} MB on one call"
        ok = call_over_http(server.url, "SELECT count(*) AS n FROM t", 3)
        assert ok["result"]["structuredContent"]["rows"] == [[5]]
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------
# 4. Cancellation reaches the database: tool timeouts and the shutdown drain are real bounds.


async def test_postgres_statement_is_cancelled_on_the_server_at_the_tool_timeout(pg: str) -> None:
    marker = f"mcpcloud_cancel_{uuid.uuid4().hex[:8]}"
    server = pg_server_for(pg, statement_timeout_seconds=60, limits={"tool_timeout_seconds": 1})
    async with connected(server) as client:
        result = await client.call_tool("query", {"sql": f"SELECT pg_sleep(30) AS {marker}"})
        assert "timed out after 1 s" in error_text(result)
        still_running = -1
        async with await psycopg.AsyncConnection.connect(pg, autocommit=True) as watcher:
            for _ in range(50):  # the cancel is sent at once; allow up to 5 s for the backend to notice
                row = await (await watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE %s", [f"%{marker}%"]
                )).fetchone()  # fmt: skip
                still_running = int(row[0]) if row else -1
                if still_running == 0:
                    break
                await anyio.sleep(0.1)
        assert still_running == 0, "PostgreSQL is still running the cancelled statement"
        ok = await client.call_tool("query", {"sql": "SELECT count(*) AS n FROM t"})
        assert ok.structured_content["rows"] == [[5]]


GRACE = 2

RUNAWAY_SQLITE = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS n FROM c"


def exclusive_lock_within(path: Path, seconds: float) -> bool:
    """A writer gets the file only once no read statement holds it."""
    conn = sqlite3.connect(path, timeout=seconds, isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("COMMIT")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


async def test_sqlite_statement_is_interrupted_at_the_tool_timeout(lite: Path) -> None:
    server = lite_server_for(lite, statement_timeout_seconds=60, limits={"tool_timeout_seconds": 1})
    async with connected(server) as client:
        result = await client.call_tool("query", {"sql": RUNAWAY_SQLITE})
        assert "timed out after 1 s" in error_text(result)
        # Still reading, the runaway statement would hold its shared lock for the full 60 s.
        assert exclusive_lock_within(lite, 5)
    assert lite_state(lite)[0] == 5


def test_sqlite_statement_does_not_outlive_the_shutdown_drain(tmp_path: Path) -> None:
    path = make_sqlite(tmp_path / "d.db", SQLITE_SCRIPT)
    drain_during(tmp_path, f"sqlite:///{path}", RUNAWAY_SQLITE)
    assert exclusive_lock_within(path, 5)  # nothing is reading the file any more


def test_postgres_statement_does_not_outlive_the_shutdown_drain(pg: str, tmp_path: Path) -> None:
    marker = f"mcpcloud_drain_{uuid.uuid4().hex[:8]}"
    drain_during(tmp_path, pg, f"SELECT pg_sleep(50) AS {marker}")
    with psycopg.connect(pg, autocommit=True) as watcher:
        for _ in range(50):
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE %s", [f"%{marker}%"]
            ).fetchone()
            if row and row[0] == 0:
                return
            time.sleep(0.1)
    raise AssertionError("PostgreSQL still runs the statement of a server that has exited")


def drain_during(tmp_path: Path, url: str, runaway: str) -> None:
    """SIGTERM a server while `runaway` (60 s statement timeout) runs: it must exit 0 within its grace."""
    server = wait_ready(serve_sql(tmp_path, url, "[http]", f"shutdown_grace_seconds = {GRACE}"))
    caller = threading.Thread(target=_call_ignoring_disconnect, args=(server.url, runaway), daemon=True)
    caller.start()
    time.sleep(1.0)  # the runaway statement is running
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    try:
        code = server.process.wait(30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        raise AssertionError("the server outlived its drain: the running statement kept it alive") from None
    # The grace, then the cancel: generously bounded, far below the statement's own 60 s timeout.
    assert code == 0 and time.monotonic() - started < GRACE + 15


def _call_ignoring_disconnect(url: str, sql: str) -> Any:
    try:
        return call_over_http(url, sql, 9, timeout=90)
    except (httpx.HTTPError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# 5. The execute guard refuses what the docs promise to refuse.

EXECUTE_REFUSALS = [
    ("DO $$ BEGIN EXECUTE 'COPY t TO PROGRAM ''touch {marker}'''; END $$", "DO $$ is not allowed"),
    (
        "CREATE FUNCTION leak() RETURNS text LANGUAGE sql AS $$ SELECT pg_read_file('/etc/hostname') $$",
        "CREATE FUNCTION is not allowed",
    ),
    ("CREATE PROCEDURE p() LANGUAGE sql AS $$ DELETE FROM t $$", "CREATE PROCEDURE is not allowed"),
    ("ALTER SYSTEM SET log_statement = 'none'", "ALTER SYSTEM is not allowed"),
    ("CREATE EXTENSION IF NOT EXISTS dblink", "CREATE EXTENSION is not allowed"),
    ("CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION wipe()", "CREATE TRIGGER is not allowed"),
    ("CREATE ROLE mcpcloud_evil SUPERUSER", "CREATE ROLE is not allowed"),
    ("SET session_authorization = postgres", "SET SESSION_AUTHORIZATION is not allowed"),
    ("CHECKPOINT", "CHECKPOINT is not allowed"),
    ("LISTEN audit", "LISTEN AUDIT is not allowed"),
    ("COPY t TO PROGRAM 'touch {marker}'", "COPY reads or writes server files or runs programs"),
    ("SELECT pg_advisory_lock(4242)", "function pg_advisory_lock() is not allowed"),
    ("SELECT 1", "SELECT only reads: use the query tool"),
    ("INSERT INTO t SELECT 99, pg_read_file('/etc/hostname')", "function pg_read_file() is not allowed"),
    ("CREATE VIEW v_seq AS SELECT nextval('s') AS n", "function nextval() is not allowed"),
]


@pytest.mark.parametrize(("sql", "reason"), EXECUTE_REFUSALS, ids=[e[0][:40] for e in EXECUTE_REFUSALS])
async def test_execute_refuses_code_and_server_changes(pg: str, tmp_path: Path, sql: str, reason: str) -> None:
    marker = tmp_path / f"pwned-{uuid.uuid4().hex}"
    before = await pg_state(pg)
    async with connected(pg_server_for(pg, allow_writes=True)) as client:
        result = await client.call_tool("execute", {"sql": sql.format(marker=marker)})
        assert "refused: " + reason in error_text(result)
    assert await pg_state(pg) == before
    assert not marker.exists()


async def test_execute_still_changes_data_and_schema(pg: str) -> None:
    table = f"scratch_{uuid.uuid4().hex[:8]}"
    async with connected(pg_server_for(pg, allow_writes=True)) as client:
        for sql in (f"CREATE TABLE {table} (id serial PRIMARY KEY, v text)", f"CREATE INDEX ON {table} (v)",
                    f"INSERT INTO {table} (v) VALUES ('a'), ('b')", f"CREATE VIEW {table}_v AS SELECT upper(v) FROM {table}",
                    f"DROP VIEW {table}_v", f"DROP TABLE {table}"):  # fmt: skip
            result = await client.call_tool("execute", {"sql": sql})
            assert not result.is_error, result.content[0].text


async def test_sqlite_execute_refuses_what_it_cannot_check(lite: Path) -> None:
    before = lite_state(lite)
    async with connected(lite_server_for(lite, allow_writes=True)) as client:
        for sql, reason in (("CREATE TRIGGER tr AFTER INSERT ON t BEGIN DELETE FROM t; END", "refused: "),
                            ("ATTACH DATABASE '/tmp/x.db' AS x", "ATTACH/DETACH"),
                            ("VACUUM INTO '/tmp/copy.db'", "VACUUM INTO"), ("PRAGMA writable_schema = 1", "PRAGMA")):  # fmt: skip
            assert reason in error_text(await client.call_tool("execute", {"sql": sql}))
    assert lite_state(lite) == before


# ---------------------------------------------------------------------------------------------
# 6. Honest messages.


def test_password_in_the_query_string_is_refused_and_never_printed() -> None:
    url = "postgresql://app@db.internal:5432/app?sslmode=require&password=hunter2-secret"
    with pytest.raises(ConfigError) as refused:
        make_server("sql", {"sql": {"databases": {"main": {"url": url}}}})
    assert "put the password in `password` or `password_file`, not in the URL" in str(refused.value)
    assert "hunter2" not in str(refused.value)


def test_mcpcloud_config_never_prints_a_query_string_password(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        'packs = ["sql"]\n[pack.sql.databases.main]\nurl = "postgresql://app@db/app?Password=hunter2-secret"\n'
    )
    result = subprocess.run([MCPCLOUD, "config", "--config", str(config)], capture_output=True, text=True, check=False,
                            env=server_env(), cwd=ROOT, timeout=60)  # fmt: skip
    assert result.returncode == 2
    assert "not in the URL" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr
