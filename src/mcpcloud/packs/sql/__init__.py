"""The `sql` pack: read SQLite and PostgreSQL databases safely; write only where enabled.

Reads hold two locks: the statement must parse as one read-only statement calling only
allow-listed functions (guard.py, allowed.py), and it runs as one protocol-level statement in
a read-only transaction with a statement timeout, on a connection reset before reuse (the
engines). Rows are measured by the database against the page's byte budget, so one call's
memory is bounded by `max_result_bytes`, not by the data. `execute` exists
only when a database has `allow_writes = true`, needs the `sql:write` scope, and is
annotated destructive.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from mcpcloud.packs import PackContext
from mcpcloud.packs.extras import require_extra
from mcpcloud.packs.sql.engine import DatabaseError, Engine, TableDescription, TableSummary, WriteOutcome
from mcpcloud.packs.sql.guard import RefusedStatement, check_read_only, check_write
from mcpcloud.packs.sql.paging import PageError, QueryPage, build_page, decode_cursor, query_digest
from mcpcloud.packs.sql.settings import DatabaseSettings, SqlSettings
from mcpcloud.packs.sql.values import json_safe
from mcpcloud.packs.tool_errors import reported

name = "sql"
description = "Query SQLite and PostgreSQL databases: read-only by default, writes only where enabled."
Settings = SqlSettings

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False)

DatabaseName = Annotated[str | None, Field(description="A configured database name; optional when there is only one.")]
SqlParams = Annotated[
    list[Any] | dict[str, Any] | None,
    Field(
        description="Bound parameters: a list for `%s` (PostgreSQL) / `?` (SQLite), a dict for `%(name)s` / `:name`."
    ),
]


def make_engine(db: DatabaseSettings, name: str) -> Engine:
    if db.is_sqlite:
        from mcpcloud.packs.sql.sqlite import SqliteEngine

        return SqliteEngine(db.sqlite_path, db.statement_timeout_seconds)
    require_extra("postgres", f"[pack.sql.databases.{name}] (a PostgreSQL database)")
    from mcpcloud.packs.sql.postgres import PostgresEngine

    return PostgresEngine(
        db.url,
        db.password.get_secret_value() if db.password else None,
        timeout_seconds=db.statement_timeout_seconds,
        min_size=db.pool_min_size,
        max_size=db.pool_max_size,
        pool_timeout_seconds=db.pool_timeout_seconds,
        connect_timeout_seconds=db.connect_timeout_seconds,
        name=f"mcpcloud-sql-{name}",
    )


class Databases:
    """The configured databases by name, with their engines."""

    def __init__(self, settings: SqlSettings) -> None:
        self.settings = settings.databases
        self.engines = {n: make_engine(db, n) for n, db in settings.databases.items()}

    def pick(self, database: str | None, *, writable: bool = False) -> tuple[str, DatabaseSettings, Engine]:
        names = [n for n, db in self.settings.items() if db.allow_writes] if writable else list(self.settings)
        if database is None:
            if len(names) != 1:
                raise ToolError(f"database is required: choose one of {', '.join(names)}")
            database = names[0]
        if database not in self.settings:
            raise ToolError(f"unknown database {database!r}: configured are {', '.join(self.settings)}")
        if writable and not self.settings[database].allow_writes:
            raise ToolError(
                f"database {database!r} is read-only: set allow_writes = true in [pack.sql.databases.{database}] "
                "to allow execute"
            )
        return database, self.settings[database], self.engines[database]

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        opened: list[Engine] = []
        try:
            for engine in self.engines.values():
                await engine.open()
                opened.append(engine)
            yield
        finally:
            for engine in reversed(opened):
                await engine.close()

    async def ping_all(self) -> None:
        for db_name, engine in self.engines.items():
            try:
                await engine.ping()
            except DatabaseError as exc:
                raise RuntimeError(f"database {db_name!r}: {exc}") from None


def register(ctx: PackContext) -> None:
    settings: SqlSettings = ctx.settings
    dbs = Databases(settings)
    ctx.lifespan(dbs.lifespan)
    ctx.readiness(dbs.ping_all)
    schema_ttl = settings.schema_cache_seconds or None

    @ctx.tool(title="List tables", annotations=READ_ONLY, cache_ttl=schema_ttl, cache_public=True)
    async def list_tables(database: DatabaseName = None) -> list[TableSummary]:
        """List the tables and views of a database with their row estimates."""
        _, _, engine = dbs.pick(database)
        return await reported(engine.list_tables(), DatabaseError)

    @ctx.tool(title="Describe table", annotations=READ_ONLY, cache_ttl=schema_ttl, cache_public=True)
    async def describe_table(
        table: Annotated[str, Field(description="Table or view name; `schema.name` for PostgreSQL schemas.")],
        database: DatabaseName = None,
    ) -> TableDescription:
        """Columns (type, nullable, default, primary key), constraints and indexes of a table or view."""
        _, _, engine = dbs.pick(database)
        return await reported(engine.describe(table), DatabaseError)

    @ctx.tool(title="Run a read-only query", annotations=READ_ONLY)
    async def query(
        sql: Annotated[str, Field(description="One read-only statement: SELECT, WITH ... SELECT, VALUES, UNION ...")],
        params: SqlParams = None,
        database: DatabaseName = None,
        cursor: Annotated[str | None, Field(description="next_cursor of the previous page, for the next rows.")] = None,
    ) -> QueryPage:
        """Run one read-only SQL statement with bound parameters and return one page of rows.

        Rows beyond the row cap or size cap come back through `next_cursor`; add ORDER BY for
        stable pages. Writes, several statements, and state-changing functions are refused.
        """
        db_name, db, engine = dbs.pick(database)
        statement = _refuse_unless(lambda: check_read_only(sql, engine.dialect, db.extra_functions, _section(db_name)))
        digest = query_digest(db_name, statement.sql, params)
        try:
            offset = decode_cursor(cursor, digest) if cursor else 0
            read = engine.read(statement.sql, params, db.max_rows + 1, offset, db.max_result_bytes)
            fetched = await reported(read, DatabaseError)
            return build_page(
                fetched, offset=offset, max_rows=db.max_rows, max_bytes=db.max_result_bytes, digest=digest
            )
        except PageError as exc:
            raise ToolError(str(exc)) from None

    @ctx.tool(title="Explain a query", annotations=READ_ONLY)
    async def explain(sql: str, params: SqlParams = None, database: DatabaseName = None) -> Any:
        """The database's plan for a read-only query, without running it (PostgreSQL: JSON; SQLite: plan lines)."""
        db_name, db, engine = dbs.pick(database)
        statement = _refuse_unless(lambda: check_read_only(sql, engine.dialect, db.extra_functions, _section(db_name)))
        return json_safe(await reported(engine.explain(statement.sql, params), DatabaseError))

    if any(db.allow_writes for db in settings.databases.values()):

        @ctx.tool(title="Execute a write", annotations=WRITE)
        async def execute(sql: str, params: SqlParams = None, database: DatabaseName = None) -> WriteOutcome:
            """Run one statement that changes data or schema (INSERT, UPDATE, DELETE, DDL) and commit it.

            Only databases configured with allow_writes accept it. One statement per call; COPY and
            functions that reach server files, programs or other servers are refused.
            """
            db_name, db, engine = dbs.pick(database, writable=True)
            statement = _refuse_unless(lambda: check_write(sql, engine.dialect, db.extra_functions, _section(db_name)))
            outcome = await reported(engine.write(statement.sql, params, db.max_rows), DatabaseError)
            outcome.rows = [[json_safe(v) for v in row] for row in outcome.rows]
            return outcome


def _section(db_name: str) -> str:
    return f"[pack.sql.databases.{db_name}]"


def _refuse_unless(check: Any) -> Any:
    try:
        return check()
    except RefusedStatement as exc:
        raise ToolError(f"refused: {exc}") from None
