"""What the tools need from a database, whatever the engine: the `Engine` protocol and its results."""

from __future__ import annotations

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

    async def read(self, sql: str, params: Params, limit: int, offset: int) -> Rows:
        """Run one read statement in a read-only transaction, returning rows offset..offset+limit."""
        ...

    async def explain(self, sql: str, params: Params) -> Any: ...

    async def write(self, sql: str, params: Params, max_rows: int) -> WriteOutcome: ...

    async def list_tables(self) -> list[TableSummary]: ...

    async def describe(self, table: str) -> TableDescription: ...


def page_sql(sql: str, limit: int, offset: int) -> str:
    """The statement wrapped so the database itself stops after `limit` rows (a huge result never materialises)."""
    return f"SELECT * FROM (\n{sql}\n) AS mcpcloud_page LIMIT {int(limit)} OFFSET {int(offset)}"
