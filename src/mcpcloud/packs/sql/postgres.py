"""PostgreSQL through psycopg 3 and an async connection pool.

Every read runs in `BEGIN READ ONLY` with `SET LOCAL statement_timeout` and is rolled back,
so a write hidden where the guard cannot see it (inside a function) is refused by the server
itself. Connections are reset (`RESET ALL`) when they return to the pool, so no session
setting survives from one caller to the next.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

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
    page_sql,
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
        self.pool = ReopenablePool(
            url, password, name=name, min_size=min_size, max_size=max_size, timeout_seconds=pool_timeout_seconds,
            connect_timeout_seconds=connect_timeout_seconds, reset=_reset_session,
        )  # fmt: skip

    async def open(self) -> None:
        await self.pool.open()

    async def close(self) -> None:
        await self.pool.close()

    async def ping(self) -> None:
        async with self._connection() as conn:
            await conn.execute("SELECT 1")

    async def read(self, statement: str, params: Params, limit: int, offset: int) -> Rows:
        async with self._read_only() as cursor:
            await cursor.execute(page_sql(statement, limit, offset), params)
            return Rows(columns=[d.name for d in cursor.description or ()], rows=[list(r) for r in await cursor.fetchall()])

    async def explain(self, statement: str, params: Params) -> Any:
        async with self._read_only() as cursor:
            await cursor.execute(f"EXPLAIN (FORMAT JSON) {statement}", params)
            row = await cursor.fetchone()
            return row[0] if row else None

    async def write(self, statement: str, params: Params, max_rows: int) -> WriteOutcome:
        async with self._connection() as conn:
            await conn.set_read_only(False)
            async with conn.transaction(), conn.cursor() as cursor:
                await self._set_timeout(cursor)
                await cursor.execute(statement, params)
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

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        try:
            async with self.pool.connection() as conn:
                yield conn
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


async def _reset_session(conn: psycopg.AsyncConnection[Any]) -> None:
    await conn.set_autocommit(True)
    await conn.execute("RESET ALL")
    await conn.set_autocommit(False)


def _primary(exc: psycopg.Error) -> str:
    message = exc.diag.message_primary if exc.diag and exc.diag.message_primary else str(exc).splitlines()[0]
    return f"{type(exc).__name__}: {message}" if isinstance(exc, psycopg.OperationalError) else message
