"""SQLite through the standard library, each call on its own connection in a worker thread.

Reads open the file read-only (`mode=ro`) with `PRAGMA query_only`, so even a statement the
guard let through cannot write; the driver itself refuses more than one statement per call.
A progress handler enforces the statement timeout; a cancelled call (tool timeout, shutdown)
interrupts its statement (`Connection.interrupt()`), so it stops within milliseconds instead of
running on in a thread nobody waits for. Reads cap every string or blob the database builds
at the page budget (`SQLITE_LIMIT_LENGTH`), so `zeroblob(200000000)` fails inside SQLite
instead of arriving in memory.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio

from mcpcloud.packs.sql.engine import (
    ColumnInfo,
    ConstraintInfo,
    DatabaseError,
    IndexInfo,
    Params,
    Rows,
    TableDescription,
    TableSummary,
    WriteOutcome,
    columns_sql,
    sized_page_sql,
    split_sized_rows,
)

_T = TypeVar("_T")

MIN_VALUE_LIMIT = 1024
"""SQLITE_LIMIT_LENGTH never goes below this, so schema and plan text still fit on a tiny budget."""


class _Running:
    """The connections of calls in flight, so a cancelled call or shutdown can interrupt them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: set[sqlite3.Connection] = set()

    def add(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            self._connections.add(conn)

    def discard(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            self._connections.discard(conn)

    def interrupt(self, only: list[sqlite3.Connection] | None = None) -> None:
        """Interrupt the statements of `only` (or of every call in flight); a finished call is skipped."""
        with self._lock:
            for conn in self._connections if only is None else [c for c in only if c in self._connections]:
                conn.interrupt()


class SqliteEngine:
    dialect = "sqlite"

    def __init__(self, path: str, timeout_seconds: float) -> None:
        self.path = Path(path)
        self.timeout_seconds = timeout_seconds
        self._running = _Running()

    async def open(self) -> None:
        return None  # a missing or unreadable file is reported by readiness (ping), like a database that is down

    async def close(self) -> None:
        self._running.interrupt()  # shutdown: nothing may keep running past the drain

    async def ping(self) -> None:
        await self._run(lambda conn: conn.execute("SELECT 1").fetchone())

    async def read(self, sql: str, params: Params, limit: int, offset: int, max_bytes: int) -> Rows:
        def run(conn: sqlite3.Connection) -> Rows:
            conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max(max_bytes, MIN_VALUE_LIMIT))
            columns = [d[0] for d in conn.execute(columns_sql(sql), _params(params)).description or ()]
            if not columns:
                return Rows(columns=[], rows=[])  # SQLite has no zero-column results
            sized = sized_page_sql(sql, len(columns), limit, offset, max_bytes, lambda c: f"length(CAST({c} AS BLOB))")
            return split_sized_rows(columns, conn.execute(sized, _params(params)).fetchall(), max_bytes)

        return await self._run(run)

    async def explain(self, sql: str, params: Params) -> Any:
        def run(conn: sqlite3.Connection) -> Any:
            steps = conn.execute(f"EXPLAIN QUERY PLAN {sql}", _params(params)).fetchall()
            depth: dict[int, int] = {0: -1}
            lines = []
            for node_id, parent, _, detail in steps:
                depth[node_id] = depth.get(parent, -1) + 1
                lines.append("  " * depth[node_id] + detail)
            return lines

        return await self._run(run)

    async def write(self, sql: str, params: Params, max_rows: int) -> WriteOutcome:
        def run(conn: sqlite3.Connection) -> WriteOutcome:
            with conn:  # commits, or rolls back on error
                cursor = conn.execute(sql, _params(params))
                columns = [d[0] for d in cursor.description or ()]
                rows = [list(r) for r in cursor.fetchmany(max_rows)] if columns else []
                if columns:
                    cursor.fetchall()  # RETURNING rows past the cap still have to be stepped for the write to finish
                return WriteOutcome(rows_affected=cursor.rowcount, columns=columns, rows=rows)

        return await self._run(run, writable=True)

    async def list_tables(self) -> list[TableSummary]:
        def run(conn: sqlite3.Connection) -> list[TableSummary]:
            found = conn.execute(
                "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            ).fetchall()
            return [
                TableSummary(
                    schema_name=None,
                    name=name,
                    kind=kind,
                    row_estimate=conn.execute(f"SELECT count(*) FROM {_quote(name)}").fetchone()[0]
                    if kind == "table"
                    else None,
                )
                for name, kind in found
            ]

        return await self._run(run)

    async def describe(self, table: str) -> TableDescription:
        def run(conn: sqlite3.Connection) -> TableDescription:
            known = conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", (table,)
            ).fetchone()
            if known is None:
                raise DatabaseError(f"no table or view named {table!r} (list_tables shows what exists)")
            quoted = _quote(table)
            columns = [
                ColumnInfo(
                    name=name, type=kind or "", nullable=not notnull and not pk, default=default, primary_key=pk > 0
                )
                for _, name, kind, notnull, default, pk, *_ in conn.execute(f"PRAGMA table_xinfo({quoted})")
            ]
            constraints = []
            keys = [c.name for c in columns if c.primary_key]
            if keys:
                constraints.append(
                    ConstraintInfo(name=None, kind="primary key", definition=f"PRIMARY KEY ({', '.join(keys)})")
                )
            for _, _, target, source, dest, *_ in conn.execute(f"PRAGMA foreign_key_list({quoted})"):
                constraints.append(
                    ConstraintInfo(
                        name=None, kind="foreign key", definition=f"FOREIGN KEY ({source}) REFERENCES {target}({dest})"
                    )
                )
            indexes = []
            for _, name, unique, *_ in conn.execute(f"PRAGMA index_list({quoted})"):
                sql = conn.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
                ).fetchone()
                cols = [row[2] for row in conn.execute(f"PRAGMA index_info({_quote(name)})")]
                definition = sql[0] if sql and sql[0] else f"automatic index on ({', '.join(cols)})"
                indexes.append(IndexInfo(name=name, unique=bool(unique), definition=definition))
            return TableDescription(table=table, columns=columns, constraints=constraints, indexes=indexes)

        return await self._run(run)

    async def _run(self, fn: Callable[[sqlite3.Connection], _T], *, writable: bool = False) -> _T:
        opened: list[sqlite3.Connection] = []
        done = threading.Event()

        def call() -> _T:
            try:
                return self._call(fn, writable, opened)
            finally:
                done.set()

        try:
            return await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            # Interrupt the statement, then wait (briefly) for the thread, so the cancel is a real bound.
            with anyio.CancelScope(shield=True), anyio.move_on_after(self.timeout_seconds):
                while not done.is_set():
                    self._running.interrupt(opened)
                    await anyio.sleep(0.01)
            raise

    def _call(self, fn: Callable[[sqlite3.Connection], _T], writable: bool, opened: list[sqlite3.Connection]) -> _T:
        mode = "rw" if writable else "ro"
        try:
            conn = sqlite3.connect(
                f"{self.path.absolute().as_uri()}?mode={mode}", uri=True, timeout=self.timeout_seconds,
                check_same_thread=False,  # interrupt() comes from the event loop's thread
            )  # fmt: skip
        except sqlite3.Error as exc:
            raise DatabaseError(f"cannot open SQLite file {str(self.path)!r}: {exc}") from None
        self._running.add(conn)
        opened.append(conn)
        try:
            if not writable:
                conn.execute("PRAGMA query_only = ON")
            deadline = time.monotonic() + self.timeout_seconds
            conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
            try:
                return fn(conn)
            except sqlite3.Error as exc:
                raise DatabaseError(_describe(exc, self.timeout_seconds)) from None
        finally:
            self._running.discard(conn)
            conn.close()


def _describe(exc: sqlite3.Error, timeout_seconds: float) -> str:
    text = str(exc)
    if text == "interrupted":
        return f"statement cancelled: it ran longer than the statement timeout of {timeout_seconds:g}s (or the call was cancelled)"
    if text == "string or blob too big":
        return (
            "a value or row is larger than max_result_bytes (SQLite stopped building it); "
            "select less of it, e.g. substr(column, 1, 1000) or length(column)"
        )
    if "readonly" in text or "read-only" in text:
        return f"refused by the database: it is opened read-only here ({exc})"
    return f"SQLite error: {exc}"


def _params(params: Params) -> Any:
    return params if params is not None else ()


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
