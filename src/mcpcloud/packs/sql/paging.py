"""Pages of query results: a row cap, a size cap, and an opaque cursor for the next page.

The cursor carries the offset and a digest of (database, SQL, parameters), so it only works
for the query it came from. Pages are read with LIMIT/OFFSET: give the query an ORDER BY
for pages that are stable while the table changes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from pydantic import BaseModel, Field

from mcpcloud.packs.sql.engine import Rows
from mcpcloud.packs.sql.values import json_safe


class PageError(ValueError):
    """A cursor or a page that cannot be served; the message says why."""


class QueryPage(BaseModel):
    columns: list[str]
    rows: list[list[Any]] = Field(description="JSON-safe values: decimals and big integers as text, bytes as {base64}.")
    row_count: int
    offset: int = Field(description="Index of this page's first row in the whole result.")
    truncated: bool = Field(description="True when more rows follow; pass next_cursor to get them.")
    truncated_by: str | None = Field(None, description="`max_rows` or `max_result_bytes`.")
    next_cursor: str | None = None


def query_digest(database: str, sql: str, params: Any) -> str:
    material = json.dumps([database, sql, params], sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def encode_cursor(digest: str, offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"q": digest, "o": offset}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, digest: str) -> int:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset = raw["o"]
        owner = raw["q"]
    except (ValueError, KeyError, TypeError):
        raise PageError("cursor is not one this server issued (pass next_cursor unchanged)") from None
    if owner != digest or not isinstance(offset, int) or offset < 0:
        raise PageError("cursor belongs to a different query: pass the same database, sql and params as the first page")
    return offset


def build_page(fetched: Rows, *, offset: int, max_rows: int, max_bytes: int, digest: str) -> QueryPage:
    """`fetched` holds up to max_rows + 1 rows; the extra one only tells that more exist."""
    rows: list[list[Any]] = []
    size = len(json.dumps(fetched.columns))
    if fetched.cut_by_bytes and not fetched.rows:
        raise PageError(_too_big(offset, max_bytes))
    truncated_by = (
        "max_rows" if len(fetched.rows) > max_rows else ("max_result_bytes" if fetched.cut_by_bytes else None)
    )
    for raw in fetched.rows[:max_rows]:
        row = [json_safe(value) for value in raw]
        size += len(json.dumps(row, ensure_ascii=False)) + 1
        if size > max_bytes:
            if not rows:
                raise PageError(_too_big(offset, max_bytes))
            truncated_by = "max_result_bytes"
            break
        rows.append(row)
    more = truncated_by is not None
    return QueryPage(
        columns=fetched.columns,
        rows=rows,
        row_count=len(rows),
        offset=offset,
        truncated=more,
        truncated_by=truncated_by,
        next_cursor=encode_cursor(digest, offset + len(rows)) if more else None,
    )


def _too_big(offset: int, max_bytes: int) -> str:
    return f"row {offset} alone is larger than max_result_bytes ({max_bytes}); select fewer or smaller columns"
