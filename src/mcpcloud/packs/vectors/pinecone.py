"""The `pinecone` backend: one Pinecone index (data plane, by host), one namespace per collection.

Pinecone keeps no per-namespace facts, so each collection holds one marker record (id
`__mcpcloud_collection__`) whose metadata names the embedding model and dimension: the same
model/dimension checks as the other backends then hold. The index's own dimension and metric
are checked when a collection is created, so a mismatch is a clear error, not a 400 later.
Document text travels in metadata (`mcpcloud_text`); null metadata values are dropped
(Pinecone stores no nulls).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pinecone import AsyncIndex
from pinecone.errors.exceptions import ApiError, PineconeError

from mcpcloud.packs.vectors.store import CollectionInfo, Document, Hit, MetadataFilter, StoreError

MARKER_ID = "__mcpcloud_collection__"
TEXT_KEY = "mcpcloud_text"
UPSERT_BATCH = 100  # well under Pinecone's 1000 vectors / 2 MB per request
COSINE_COMPATIBLE = (None, "cosine", "dotproduct")  # vectors are L2-normalised: dot product is cosine


class PineconeStore:
    def __init__(self, host: str, api_key: str, timeout_seconds: float = 30.0) -> None:
        self.host = host
        self._api_key = api_key
        self.timeout_seconds = timeout_seconds
        self._index: AsyncIndex | None = None

    @property
    def index(self) -> AsyncIndex:
        if self._index is None:
            raise StoreError("the Pinecone store is not open")
        return self._index

    async def open(self) -> None:
        self._index = AsyncIndex(host=self.host, api_key=self._api_key, timeout=self.timeout_seconds)

    async def close(self) -> None:
        if self._index is not None:
            await self._index.close()
            self._index = None

    async def ping(self) -> None:
        await self._stats()

    async def list_collections(self) -> list[CollectionInfo]:
        stats = await self._stats()
        found = [await self._describe(name, stats) for name in sorted(stats.namespaces)]
        return [info for info in found if info is not None]

    async def get_collection(self, name: str) -> CollectionInfo | None:
        return await self._describe(name, await self._stats())

    async def create_collection(self, name: str, model: str, dimension: int) -> None:
        stats = await self._stats()
        if stats.dimension is not None and stats.dimension != dimension:
            raise StoreError(
                f"the Pinecone index at {self.host} has dimension {stats.dimension} but model {model!r} makes "
                f"{dimension}-dimensional vectors: create an index with dimension {dimension}, or configure a model "
                f"with {stats.dimension} dimensions"
            )
        if stats.metric not in COSINE_COMPATIBLE:
            raise StoreError(
                f"the Pinecone index uses metric {stats.metric!r}; scores here are cosine similarity: "
                "create the index with metric 'cosine' (or 'dotproduct')"
            )
        if await self._marker(name) is None and stats.namespaces.get(name):
            raise StoreError(
                f"namespace {name!r} of the Pinecone index holds vectors mcpcloud did not write; use another name"
            )
        direction = [1.0] + [0.0] * (dimension - 1)  # Pinecone refuses all-zero dense vectors
        marker = {
            "id": MARKER_ID,
            "values": direction,
            "metadata": {"mcpcloud_model": model, "mcpcloud_dimension": dimension},
        }
        await self._call(self.index.upsert(vectors=[marker], namespace=name, show_progress=False))

    async def upsert(self, name: str, documents: list[Document], vectors: np.ndarray) -> None:
        if any(doc.id == MARKER_ID for doc in documents):
            raise StoreError(f"document id {MARKER_ID!r} is reserved by mcpcloud; choose another id")
        records = [
            {"id": doc.id, "values": [float(x) for x in vector], "metadata": _metadata(doc)}
            for doc, vector in zip(documents, vectors, strict=True)
        ]
        for start in range(0, len(records), UPSERT_BATCH):
            batch = records[start : start + UPSERT_BATCH]
            await self._call(self.index.upsert(vectors=batch, namespace=name, show_progress=False))

    async def search(self, name: str, vector: np.ndarray, k: int, where: MetadataFilter | None) -> list[Hit]:
        response = await self._call(
            self.index.query(
                top_k=k + 1,  # one more: the marker may be among the nearest
                vector=[float(x) for x in vector],
                namespace=name,
                filter=pinecone_filter(where),
                include_metadata=True,
            )
        )
        hits = [_hit(match) for match in response.matches if match.id != MARKER_ID]
        return hits[:k]

    async def delete(self, name: str, ids: list[str]) -> int:
        wanted = [i for i in dict.fromkeys(ids) if i != MARKER_ID]
        if not wanted:
            return 0
        present = await self._call(self.index.fetch(ids=wanted, namespace=name))
        existing = [i for i in wanted if i in present.vectors]
        if existing:
            await self._call(self.index.delete(ids=existing, namespace=name))
        return len(existing)

    async def _describe(self, name: str, stats: Any) -> CollectionInfo | None:
        marker = await self._marker(name)
        if marker is None:
            return None
        summary = stats.namespaces.get(name)
        count = max(0, (summary.vector_count if summary else 0) - 1)
        metadata = marker.metadata or {}
        return CollectionInfo(
            name=name,
            model=str(metadata.get("mcpcloud_model")),
            dimension=int(metadata.get("mcpcloud_dimension", 0)),
            count=count,
        )

    async def _marker(self, name: str) -> Any:
        fetched = await self._call(self.index.fetch(ids=[MARKER_ID], namespace=name))
        return fetched.vectors.get(MARKER_ID)

    async def _stats(self) -> Any:
        return await self._call(self.index.describe_index_stats())

    async def _call(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except ApiError as exc:
            raise StoreError(f"Pinecone answered {exc.status_code}: {exc.message}") from None
        except PineconeError as exc:
            raise StoreError(f"Pinecone index at {self.host} unreachable or refused the request: {exc}") from None


def pinecone_filter(where: MetadataFilter | None) -> dict[str, Any] | None:
    """`{"lang": "en", "topic": ["a", "b"]}` as Pinecone's filter language: `$eq` / `$in`, all must hold."""
    if not where:
        return None
    clauses = [{key: {"$in": value} if isinstance(value, list) else {"$eq": value}} for key, value in where.items()]
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _metadata(doc: Document) -> dict[str, Any]:
    if TEXT_KEY in doc.metadata:
        raise StoreError(f"document {doc.id!r}: metadata key {TEXT_KEY!r} is reserved by mcpcloud")
    return {**{k: v for k, v in doc.metadata.items() if v is not None}, TEXT_KEY: doc.text}


def _hit(match: Any) -> Hit:
    metadata = dict(match.metadata or {})
    text = str(metadata.pop(TEXT_KEY, ""))
    return Hit(id=match.id, text=text, metadata=metadata, score=float(match.score))
