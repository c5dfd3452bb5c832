"""What the tools need from a database, whatever the engine: the `Engine` protocol and its results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel, Field

Params = list[Any] | dict[str, Any] | None


class DatabaseError(Exception):
    """The database refused or failed the statement; the message is safe to show the caller."""


class TableSummary(BaseModel):
    schema_name: str | None = Field(description="Schema (PostgreSQL); null for SQLite.")
    name: str
    kind: str = Field(description="table, view, materialized view or foreign table.")
    row_estimate: int | None = Field(
        description="PostgreSQL: the planner's estimate (null before the first ANALYZE); SQLite: exact count."
    )


class ColumnInfo(BaseModel):
    name: str
    type: str
    nullable: bool
    default: str | None
    primary_key: bool


class ConstraintInfo(BaseModel):
    name: str | None
    kind: str = Field(description="primary key, foreign key, unique or check.")
    definition: str


class IndexInfo(BaseModel):
    name: str
    unique: bool
    definition: str


class TableDescription(BaseModel):
    table: str
    columns: list[ColumnInfo]
    constraints: list[ConstraintInfo]
    indexes: list[IndexInfo]


class Rows(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    cut_by_bytes: bool = False
    """The database held back a row because the page's byte budget was spent (see `sized_page_sql`)."""


class WriteOutcome(BaseModel):
    rows_affected: int = Field(description="Rows inserted, updated or deleted (-1 when the database does not say).")
    columns: list[str] = Field(default_factory=list, description="Columns of rows returned (RETURNING), if any.")
    rows: list[list[Any]] = Field(default_factory=list)


class Engine(Protocol):
    dialect: str
    """The sqlglot dialect that parses this engine's SQL."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def ping(self) -> None: ...

    async def read(self, sql: str, params: Params, limit: int, offset: int, max_bytes: int) -> Rows:
        """Run one read statement in a read-only transaction, returning rows offset..offset+limit
        that fit in `max_bytes` (measured by the database, so a row past the budget never leaves it)."""
        ...

    async def explain(self, sql: str, params: Params) -> Any: ...

    async def write(self, sql: str, params: Params, max_rows: int) -> WriteOutcome: ...

    async def list_tables(self) -> list[TableSummary]: ...

    async def describe(self, table: str) -> TableDescription: ...


def page_sql(sql: str, limit: int, offset: int) -> str:
    """The statement wrapped so the database itself stops after `limit` rows (a huge result never materialises)."""
    return f"SELECT * FROM (\n{sql}\n) AS mcpcloud_page LIMIT {int(limit)} OFFSET {int(offset)}"


ROW_END = "mcpcloud_end"


def sized_page_sql(
    sql: str, columns: int, limit: int, offset: int, max_bytes: int, text_size: Callable[[str], str]
) -> str:
    """The page, with the database measuring each row and holding back what exceeds `max_bytes`.

    Columns are renamed by position (duplicate or odd names cannot collide) and each row gets
    its text size; a running sum (a window in input order, so the query's ORDER BY holds) ends
    the page. The first row that does not fit comes back once, with every value NULL and its
    end offset in the last column: it tells "more rows follow" (or "this row alone is too big")
    without its data ever being sent. `text_size(column)` is the dialect's byte length of a value.
    """
    names = [f"mcpcloud_c{i}" for i in range(columns)]
    listed = ", ".join(names)
    size = " + ".join(f"coalesce({text_size(n)}, 4) + 3" for n in names)
    kept = ", ".join(f"CASE WHEN {ROW_END} <= {int(max_bytes)} THEN {n} END" for n in names)
    return (
        f"WITH mcpcloud_page({listed}) AS (\n{page_sql(sql, limit, offset)}\n),\n"
        f"mcpcloud_sized AS (SELECT {listed}, {size} AS mcpcloud_size FROM mcpcloud_page),\n"
        f"mcpcloud_running AS (SELECT {listed}, mcpcloud_size, sum(mcpcloud_size) OVER "
        f"(ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS {ROW_END} FROM mcpcloud_sized)\n"
        f"SELECT {kept}, {ROW_END} FROM mcpcloud_running WHERE {ROW_END} - mcpcloud_size <= {int(max_bytes)}"
    )


def split_sized_rows(columns: list[str], raw: list[Any], max_bytes: int) -> Rows:
    """Rows of `sized_page_sql`: the data rows, and whether the database held one back."""
    rows = [list(r[:-1]) for r in raw if r[-1] <= max_bytes]
    return Rows(columns=columns, rows=rows, cut_by_bytes=len(rows) < len(raw))


def columns_sql(sql: str) -> str:
    """The statement's columns without producing a row (LIMIT 0 stops the executor before its first row)."""
    return page_sql(sql, 0, 0)
