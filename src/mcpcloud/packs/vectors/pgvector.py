"""The pgvector backend: one table per collection with an HNSW index on cosine distance.

A registry table records each collection's model and dimension. Metadata is `jsonb`, so a
filter is `metadata @> '{"key": value}'` (GIN-indexed), and with pgvector >= 0.8 the HNSW scan
iterates until enough rows pass the filter instead of returning fewer than k.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from psycopg_pool import PoolTimeout

from mcpcloud.packs.vectors.store import CollectionInfo, Document, Hit, MetadataFilter, StoreError
from mcpcloud.state.pgpool import PoolNotOpen, ReopenablePool

REGISTRY = "mcpcloud_vector_collections"
HNSW_MAX_DIMENSION = 2000  # pgvector's limit for an HNSW index on `vector`


def vector_literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in np.asarray(vector, dtype=np.float32).tolist()) + "]"


class PgVectorStore:
    def __init__(
        self,
        url: str,
        password: str | None,
        *,
        schema: str = "public",
        min_size: int = 1,
        max_size: int = 10,
        pool_timeout_seconds: float = 10.0,
        hnsw_m: int = 16,
        hnsw_ef_construction: int = 64,
        hnsw_ef_search: int = 100,
    ) -> None:
        self.pool = ReopenablePool(
            url, password, name="mcpcloud-vectors", min_size=min_size, max_size=max_size,
            timeout_seconds=pool_timeout_seconds,
        )  # fmt: skip
        self.schema = schema
        self.hnsw_m = hnsw_m
        self.hnsw_ef_construction = hnsw_ef_construction
        self.hnsw_ef_search = hnsw_ef_search
        self._ready = False
        self._iterative_scan = False

    async def open(self) -> None:
        await self.pool.open()

    async def close(self) -> None:
        await self.pool.close()

    async def ping(self) -> None:
        async with self._connection() as conn:
            await conn.execute("SELECT 1")
        await self._ensure_schema()

    async def list_collections(self) -> list[CollectionInfo]:
        await self._ensure_schema()
        async with self._connection() as conn:
            found = await (
                await conn.execute(
                    sql.SQL("SELECT name, model, dimension FROM {} ORDER BY name").format(self._registry)
                )
            ).fetchall()
            infos = []
            for name, model, dimension in found:
                count = await (
                    await conn.execute(sql.SQL("SELECT count(*) FROM {}").format(self._table(name)))
                ).fetchone()
                infos.append(
                    CollectionInfo(name=name, model=model, dimension=dimension, count=count[0] if count else 0)
                )
            return infos

    async def get_collection(self, name: str) -> CollectionInfo | None:
        await self._ensure_schema()
        async with self._connection() as conn:
            row = await (
                await conn.execute(
                    sql.SQL("SELECT model, dimension FROM {} WHERE name = %s").format(self._registry), (name,)
                )
            ).fetchone()
            if row is None:
                return None
            count = await (await conn.execute(sql.SQL("SELECT count(*) FROM {}").format(self._table(name)))).fetchone()
            return CollectionInfo(name=name, model=row[0], dimension=row[1], count=count[0] if count else 0)

    async def create_collection(self, name: str, model: str, dimension: int) -> None:
        await self._ensure_schema()
        table = self._table(name)
        async with self._connection() as conn, conn.transaction():
            await conn.execute(
                sql.SQL("INSERT INTO {} (name, model, dimension) VALUES (%s, %s, %s)").format(self._registry),
                (name, model, dimension),
            )
            await conn.execute(
                sql.SQL(
                    "CREATE TABLE {} (id text PRIMARY KEY, text text NOT NULL, metadata jsonb NOT NULL DEFAULT '{{}}', "
                    "embedding vector({}) NOT NULL)"
                ).format(table, sql.Literal(dimension))
            )
            await conn.execute(sql.SQL("CREATE INDEX ON {} USING gin (metadata jsonb_path_ops)").format(table))
            if dimension <= HNSW_MAX_DIMENSION:
                await conn.execute(
                    sql.SQL(
                        "CREATE INDEX ON {} USING hnsw (embedding vector_cosine_ops) WITH (m = {}, ef_construction = {})"
                    ).format(table, sql.Literal(self.hnsw_m), sql.Literal(self.hnsw_ef_construction))
                )

    async def upsert(self, name: str, documents: list[Document], vectors: np.ndarray) -> None:
        rows = [(d.id, d.text, Jsonb(d.metadata), vector_literal(v)) for d, v in zip(documents, vectors, strict=True)]
        async with self._connection() as conn, conn.transaction(), conn.cursor() as cursor:
            await cursor.executemany(
                sql.SQL(
                    "INSERT INTO {} (id, text, metadata, embedding) VALUES (%s, %s, %s, %s::vector) "
                    "ON CONFLICT (id) DO UPDATE SET text = excluded.text, metadata = excluded.metadata, "
                    "embedding = excluded.embedding"
                ).format(self._table(name)),
                rows,
            )

    async def search(self, name: str, vector: np.ndarray, k: int, where: MetadataFilter | None) -> list[Hit]:
        conditions, params = _filter_sql(where)
        literal = vector_literal(vector)
        query = sql.SQL(
            "SELECT id, text, metadata, 1 - (embedding <=> %s::vector) FROM {} {} ORDER BY embedding <=> %s::vector LIMIT %s"
        ).format(self._table(name), conditions)
        async with self._connection() as conn, conn.transaction():
            await conn.execute(
                sql.SQL("SET LOCAL hnsw.ef_search = {}").format(sql.Literal(max(self.hnsw_ef_search, k)))
            )
            if where and self._iterative_scan:
                await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            found = await (await conn.execute(query, [literal, *params, literal, k])).fetchall()
        hits = [Hit(id=i, text=t, metadata=m, score=float(s)) for i, t, m, s in found]
        # relaxed_order may return neighbours slightly out of order
        return sorted(hits, key=lambda hit: -hit.score)

    async def delete(self, name: str, ids: list[str]) -> int:
        async with self._connection() as conn:
            cursor = await conn.execute(sql.SQL("DELETE FROM {} WHERE id = ANY(%s)").format(self._table(name)), (ids,))
            return cursor.rowcount

    @property
    def _registry(self) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(REGISTRY))

    def _table(self, name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(f"mcpcloud_vectors_{name}"))

    async def _ensure_schema(self) -> None:
        if self._ready:
            return
        async with self._connection() as conn:
            await conn.set_autocommit(True)
            try:
                available = await (
                    await conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
                ).fetchone()
                if available is None:
                    raise StoreError(
                        "the PostgreSQL server has no pgvector extension installed (package postgresql-NN-pgvector)"
                    )
                await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
                await conn.execute(
                    sql.SQL(
                        "CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, model text NOT NULL, "
                        "dimension integer NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
                    ).format(self._registry)
                )
                version = await (
                    await conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
                ).fetchone()
            finally:
                await conn.set_autocommit(False)
        self._iterative_scan = version is not None and _version_tuple(version[0]) >= (0, 8)
        self._ready = True

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        try:
            async with self.pool.connection() as conn:
                yield conn
        except PoolNotOpen as exc:
            raise StoreError(str(exc)) from None
        except PoolTimeout:
            raise StoreError(f"no database connection free within {self.pool.timeout_seconds:g}s") from None
        except psycopg.Error as exc:
            primary = exc.diag.message_primary if exc.diag and exc.diag.message_primary else str(exc).splitlines()[0]
            raise StoreError(f"PostgreSQL error: {primary}") from None


def _filter_sql(where: MetadataFilter | None) -> tuple[sql.Composable, list[Any]]:
    if not where:
        return sql.SQL(""), []
    clauses: list[sql.Composable] = []
    params: list[Any] = []
    for key, wanted in where.items():
        options = wanted if isinstance(wanted, list) else [wanted]
        clauses.append(sql.SQL("({})").format(sql.SQL(" OR ").join(sql.SQL("metadata @> %s") for _ in options)))
        params.extend(Jsonb({key: option}) for option in options)
    return sql.SQL("WHERE ") + sql.SQL(" AND ").join(clauses), params


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:2] if part.isdigit())
