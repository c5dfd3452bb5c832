"""PostgreSQL through psycopg 3 and an async connection pool.

Every read runs in `BEGIN READ ONLY` with `SET LOCAL statement_timeout` and is rolled back,
so a write hidden where the guard cannot see it (inside a function) is refused by the server
itself. Caller SQL always goes through the extended query protocol (a prepared statement),
which PostgreSQL refuses to hold more than one statement, so `SELECT 1; COMMIT; DELETE ...`
cannot run even if the parser were fooled. Connections are reset with `DISCARD ALL` when they
return to the pool: no session setting, advisory lock, temporary table, LISTEN or prepared
statement survives from one caller to the next. A cancelled call (tool timeout, shutdown)
cancels its statement on the server.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
import psycopg
from psycopg import errors, sql
from psycopg_pool import PoolTimeout

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
    page_sql,
    sized_page_sql,
    split_sized_rows,
)
from mcpcloud.state.pgpool import PoolNotOpen, ReopenablePool

LIST_TABLES = """
SELECT n.nspname, c.relname,
       CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table'
            ELSE 'table' END,
       CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
  AND has_table_privilege(c.oid, 'SELECT')
ORDER BY 1, 2
"""

COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary AND a.attnum = ANY(i.indkey))
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = %(oid)s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

CONSTRAINTS = """
SELECT conname, CASE contype WHEN 'p' THEN 'primary key' WHEN 'f' THEN 'foreign key' WHEN 'u' THEN 'unique'
                             WHEN 'c' THEN 'check' WHEN 'x' THEN 'exclusion' ELSE contype::text END,
       pg_get_constraintdef(oid)
FROM pg_constraint WHERE conrelid = %(oid)s ORDER BY contype, conname
"""

INDEXES = """
SELECT indexrelid::regclass::text, indisunique, pg_get_indexdef(indexrelid)
FROM pg_index WHERE indrelid = %(oid)s ORDER BY 1
"""


log = logging.getLogger("mcpcloud.sql")

ROLE_POWERS = "SELECT rolsuper, rolreplication FROM pg_roles WHERE rolname = current_user"

QUICK_WAIT_SECONDS = 0.5
"""How long a call waits for a pooled connection before checking that the database is reachable at all."""

CANCEL_WAIT_SECONDS = 5.0
"""Longest a cancelled call waits for the server to acknowledge the cancel request."""


class PostgresEngine:
    dialect = "postgres"

    def __init__(
        self,
        url: str,
        password: str | None,
        *,
        timeout_seconds: float,
        min_size: int,
        max_size: int,
        pool_timeout_seconds: float,
        connect_timeout_seconds: float,
        name: str = "mcpcloud-sql",
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.name = name
        self._role_checked = False
        self._running: set[Any] = set()
        """Cancel handles of the connections lent out right now, so shutdown can stop their statements."""
        self.pool = ReopenablePool(
            url, password, name=name, min_size=min_size, max_size=max_size, timeout_seconds=pool_timeout_seconds,
            connect_timeout_seconds=connect_timeout_seconds, reset=_reset_session, configure=self._warn_if_powerful,
        )  # fmt: skip

    async def open(self) -> None:
        await self.pool.open()

    async def close(self) -> None:
        # Shutdown: stop what still runs on the server before the sockets go (closing them would not stop it).
        for cancel in list(self._running):
            await _cancel_on_server(cancel)
        await self.pool.close()

    async def ping(self) -> None:
        async with self._connection() as conn:
            await conn.execute("SELECT 1")

    async def read(self, statement: str, params: Params, limit: int, offset: int, max_bytes: int) -> Rows:
        async with self._read_only() as cursor:
            await _one_statement(cursor, columns_sql(statement), params)
            columns = [d.name for d in cursor.description or ()]
            if not columns:  # `SELECT FROM t`: rows without values cost nothing to fetch
                await _one_statement(cursor, page_sql(statement, limit, offset), params)
                return Rows(columns=[], rows=[[] for _ in await cursor.fetchall()])
            sized = sized_page_sql(statement, len(columns), limit, offset, max_bytes, _text_bytes)
            await _one_statement(cursor, sized, params)
            return split_sized_rows(columns, await cursor.fetchall(), max_bytes)

    async def explain(self, statement: str, params: Params) -> Any:
        async with self._read_only() as cursor:
            await _one_statement(cursor, f"EXPLAIN (FORMAT JSON) {statement}", params)
            row = await cursor.fetchone()
            return row[0] if row else None

    async def write(self, statement: str, params: Params, max_rows: int) -> WriteOutcome:
        async with self._connection() as conn:
            await conn.set_read_only(False)
            async with conn.transaction(), conn.cursor() as cursor:
                await self._set_timeout(cursor)
                await _one_statement(cursor, statement, params)
                columns = [d.name for d in cursor.description or ()]
                rows = [list(r) for r in await cursor.fetchmany(max_rows)] if columns else []
                return WriteOutcome(rows_affected=cursor.rowcount, columns=columns, rows=rows)

    async def list_tables(self) -> list[TableSummary]:
        async with self._read_only() as cursor:
            await cursor.execute(LIST_TABLES)
            return [
                TableSummary(schema_name=schema, name=name, kind=kind, row_estimate=estimate)
                for schema, name, kind, estimate in await cursor.fetchall()
            ]

    async def describe(self, table: str) -> TableDescription:
        async with self._read_only() as cursor:
            await cursor.execute("SELECT to_regclass(%s)::oid, to_regclass(%s)::text", (table, table))
            oid, qualified = await cursor.fetchone() or (None, None)
            if oid is None:
                raise DatabaseError(f"no table or view named {table!r} (list_tables shows what exists)")
            await cursor.execute(COLUMNS, {"oid": oid})
            columns = [
                ColumnInfo(name=n, type=t, nullable=nullable, default=default, primary_key=pk)
                for n, t, nullable, default, pk in await cursor.fetchall()
            ]
            await cursor.execute(CONSTRAINTS, {"oid": oid})
            constraints = [ConstraintInfo(name=n, kind=k, definition=d) for n, k, d in await cursor.fetchall()]
            await cursor.execute(INDEXES, {"oid": oid})
            indexes = [IndexInfo(name=n, unique=u, definition=d) for n, u, d in await cursor.fetchall()]
            return TableDescription(table=qualified, columns=columns, constraints=constraints, indexes=indexes)

    @asynccontextmanager
    async def _read_only(self) -> AsyncIterator[psycopg.AsyncCursor[Any]]:
        async with self._connection() as conn:
            await conn.set_read_only(True)
            async with conn.transaction(force_rollback=True), conn.cursor() as cursor:
                await self._set_timeout(cursor)
                yield cursor

    async def _set_timeout(self, cursor: psycopg.AsyncCursor[Any]) -> None:
        await cursor.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(int(self.timeout_seconds * 1000)))

    async def _warn_if_powerful(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Once per engine, on its first connection: say so when the role can do far more than read."""
        if self._role_checked:
            return
        self._role_checked = True
        try:
            row = await (await conn.execute(ROLE_POWERS)).fetchone()
        except psycopg.Error as exc:  # never a reason to refuse the connection
            log.info("sql: %s could not read its role's attributes: %s", self.name, _primary(exc))
            row = None
        await conn.rollback()
        dangerous = [power for power, held in zip(("SUPERUSER", "REPLICATION"), row or (), strict=False) if held]
        if dangerous:
            log.warning(
                "sql: %s connects as a role with %s; a parser or driver mistake would run with these powers. "
                "Connect as a least-privilege role (docs/DATA.md, 'A least-privilege role').",
                self.name,
                " and ".join(dangerous),
            )

    async def _unreachable_reason(self) -> str | None:
        """Why a fresh connection fails right now, or None when the database answers."""
        try:
            await self.pool.probe()
        except psycopg.Error as exc:
            return _primary(exc)
        return None

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        try:
            async with self._pooled() as conn:
                cancel = conn.pgconn.get_cancel()
                self._running.add(cancel)
                try:
                    yield conn
                except anyio.get_cancelled_exc_class():
                    await _cancel_on_server(cancel)
                    raise
                finally:
                    self._running.discard(cancel)
        except PoolNotOpen as exc:
            raise DatabaseError(str(exc)) from None
        except PoolTimeout:
            raise DatabaseError(f"no database connection free within {self.pool.timeout_seconds:g}s") from None
        except errors.QueryCanceled:
            raise DatabaseError(
                f"statement cancelled: it ran longer than the statement timeout of {self.timeout_seconds:g}s"
            ) from None
        except errors.ReadOnlySqlTransaction as exc:
            raise DatabaseError(
                f"refused by the database: the statement tried to write inside the read-only transaction ({_primary(exc)})"
            ) from None
        except psycopg.OperationalError as exc:
            raise DatabaseError(f"database unavailable: {_primary(exc)}") from None
        except psycopg.Error as exc:
            raise DatabaseError(f"PostgreSQL error: {_primary(exc)}") from None

    @asynccontextmanager
    async def _pooled(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A pooled connection; when none comes at once, first ask whether the database is reachable at all,
        so a caller hears "database unreachable: <reason>" now rather than a pool timeout later."""
        quick = min(QUICK_WAIT_SECONDS, self.pool.timeout_seconds)
        async with AsyncExitStack() as stack:
            try:
                conn = await stack.enter_async_context(self.pool.connection(timeout=quick))
            except PoolTimeout:
                if reason := await self._unreachable_reason():
                    raise DatabaseError(f"database unreachable: {reason}") from None
                conn = await stack.enter_async_context(self.pool.connection(timeout=self.pool.timeout_seconds - quick))
            yield conn


def _text_bytes(column: str) -> str:
    return f"octet_length({column}::text)"


async def _one_statement(cursor: psycopg.AsyncCursor[Any], statement: str, params: Params) -> None:
    """Run caller SQL as a prepared statement: the extended protocol, which holds exactly one statement."""
    await cursor.execute(statement, params, prepare=True)


async def _cancel_on_server(cancel: Any) -> None:
    """The call was cancelled: make the server stop the statement too (psycopg may already have closed the socket)."""
    with anyio.CancelScope(shield=True), anyio.move_on_after(CANCEL_WAIT_SECONDS):
        try:
            await anyio.to_thread.run_sync(cancel.cancel)
        except psycopg.Error as exc:
            log.warning("sql: could not cancel the statement on the server: %s", exc)


async def _reset_session(conn: psycopg.AsyncConnection[Any]) -> None:
    """Back to a fresh session: settings, advisory locks, temp tables, LISTEN, prepared statements, plans."""
    await conn.set_autocommit(True)
    await conn.execute("DISCARD ALL")
    await conn.set_autocommit(False)


def _primary(exc: psycopg.Error) -> str:
    message = exc.diag.message_primary if exc.diag and exc.diag.message_primary else str(exc).splitlines()[0]
    return f"{type(exc).__name__}: {message}" if isinstance(exc, psycopg.OperationalError) else message
