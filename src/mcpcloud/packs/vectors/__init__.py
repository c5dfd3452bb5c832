"""The `vectors` pack: semantic search over document collections.

Backends sit behind `VectorStore` (store.py): `embedded` (a SQLite file, exact NumPy search,
no server), `pgvector` (PostgreSQL, HNSW on cosine distance) and `pinecone` (one index, a
namespace per collection). Embeddings come from the bundled offline model or any
OpenAI-compatible endpoint. A collection records the model and
dimension it was built with; using it with another model is an error, not silent garbage.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from mcpcloud.packs import PackContext
from mcpcloud.packs.extras import require_extra
from mcpcloud.packs.tool_errors import reported
from mcpcloud.packs.vectors.embeddings import Embedder, EmbeddingError, make_embedder
from mcpcloud.packs.vectors.settings import VectorSettings
from mcpcloud.packs.vectors.store import (
    COLLECTION_NAME,
    CollectionInfo,
    Document,
    Hit,
    MetadataFilter,
    StoreError,
    VectorStore,
)

name = "vectors"
description = "Semantic search over document collections (embedded store, pgvector or Pinecone)."
Settings = VectorSettings

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
UPSERT = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
DELETE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False)

CollectionName = Annotated[str, Field(description="Collection name: lower-case letters, digits and _, up to 48.")]


class UpsertResult(BaseModel):
    collection: str
    upserted: int
    created: bool = Field(description="True when this call created the collection.")
    model: str
    dimension: int


class DeleteResult(BaseModel):
    collection: str
    deleted: int = Field(description="How many of the ids existed.")


def make_store(settings: VectorSettings) -> VectorStore:
    if settings.backend == "pinecone":
        require_extra("pinecone", "[pack.vectors] backend = 'pinecone'")
        from mcpcloud.packs.vectors.pinecone import PineconeStore

        assert settings.pinecone
        pc = settings.pinecone
        return PineconeStore(pc.host, pc.api_key.get_secret_value(), pc.timeout_seconds)
    if settings.backend == "pgvector":
        require_extra("postgres", "[pack.vectors] backend = 'pgvector'")
        from mcpcloud.packs.vectors.pgvector import PgVectorStore

        assert settings.url
        return PgVectorStore(
            settings.url,
            settings.password.get_secret_value() if settings.password else None,
            schema=settings.schema_name,
            min_size=settings.pool_min_size,
            max_size=settings.pool_max_size,
            pool_timeout_seconds=settings.pool_timeout_seconds,
            hnsw_m=settings.hnsw_m,
            hnsw_ef_construction=settings.hnsw_ef_construction,
            hnsw_ef_search=settings.hnsw_ef_search,
        )
    from mcpcloud.packs.vectors.embedded import EmbeddedStore

    return EmbeddedStore(settings.path)


class Collections:
    """The tools' logic, independent of the backend and the embedding model."""

    def __init__(self, settings: VectorSettings, store: VectorStore, embedder: Embedder) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        await self.store.open()
        try:
            yield
        finally:
            await self.store.close()
            await self.embedder.close()

    async def upsert(self, collection: str, documents: list[Document]) -> UpsertResult:
        _check_name(collection)
        if not documents:
            raise ToolError("documents is empty: give at least one {id, text, metadata}")
        if len(documents) > self.settings.max_documents_per_upsert:
            raise ToolError(
                f"{len(documents)} documents in one call; at most {self.settings.max_documents_per_upsert} (split the batch)"
            )
        ids = [doc.id for doc in documents]
        if len(set(ids)) != len(ids):
            duplicate = next(i for i in ids if ids.count(i) > 1)
            raise ToolError(f"document id {duplicate!r} appears more than once in this call")
        for doc in documents:
            if not doc.text.strip():
                raise ToolError(f"document {doc.id!r} has empty text")
            if len(doc.text) > self.settings.max_text_chars:
                raise ToolError(
                    f"document {doc.id!r} has {len(doc.text)} characters; at most {self.settings.max_text_chars}"
                )
        texts = [doc.text for doc in documents]
        vectors = await reported(self.embedder.embed_documents(texts), EmbeddingError, prefix="embedding failed: ")
        info = await reported(self.store.get_collection(collection), StoreError)
        created = info is None
        if info is None:
            create = self.store.create_collection(collection, self.embedder.model_id, vectors.shape[1])
            await reported(create, StoreError)
        else:
            self._check_compatible(info, vectors.shape[1])
        await reported(self.store.upsert(collection, documents, vectors), StoreError)
        return UpsertResult(
            collection=collection,
            upserted=len(documents),
            created=created,
            model=self.embedder.model_id,
            dimension=vectors.shape[1],
        )

    async def search(self, collection: str, query: str, k: int, where: MetadataFilter | None) -> list[Hit]:
        info = await self._existing(collection)
        if not query.strip():
            raise ToolError("query is empty: give the text to search for")
        if k > self.settings.max_k:
            raise ToolError(f"k = {k} is above the limit of {self.settings.max_k}")
        _check_filter(where)
        vector = await reported(self.embedder.embed_query(query), EmbeddingError, prefix="embedding failed: ")
        self._check_compatible(info, vector.shape[0])
        return await reported(self.store.search(collection, vector, k, where), StoreError)

    async def delete(self, collection: str, ids: list[str]) -> DeleteResult:
        await self._existing(collection)
        if not ids:
            raise ToolError("ids is empty: give the ids of the documents to delete")
        return DeleteResult(
            collection=collection, deleted=await reported(self.store.delete(collection, ids), StoreError)
        )

    async def _existing(self, collection: str) -> CollectionInfo:
        _check_name(collection)
        info = await reported(self.store.get_collection(collection), StoreError)
        if info is None:
            known = ", ".join(c.name for c in await reported(self.store.list_collections(), StoreError)) or "none yet"
            raise ToolError(f"no collection named {collection!r} (existing: {known}); upsert documents to create it")
        return info

    def _check_compatible(self, info: CollectionInfo, dimension: int) -> None:
        if info.model != self.embedder.model_id or info.dimension != dimension:
            raise ToolError(
                f"collection {info.name!r} was built with model {info.model!r} ({info.dimension} dimensions) but this "
                f"server embeds with {self.embedder.model_id!r} ({dimension} dimensions); its vectors are not comparable. "
                "Configure the same model, or upsert into a new collection."
            )


def register(ctx: PackContext) -> None:
    settings: VectorSettings = ctx.settings
    collections = Collections(settings, make_store(settings), make_embedder(settings.embeddings))
    ctx.lifespan(collections.lifespan)
    ctx.readiness(collections.store.ping)

    @ctx.tool(title="List collections", annotations=READ_ONLY)
    async def list_collections() -> list[CollectionInfo]:
        """Every collection with its embedding model, dimension and document count."""
        return await reported(collections.store.list_collections(), StoreError)

    @ctx.tool(title="Upsert documents", annotations=UPSERT)
    async def upsert_documents(collection: CollectionName, documents: list[Document]) -> UpsertResult:
        """Embed and store documents; an existing id is replaced. Creates the collection on first use."""
        return await collections.upsert(collection, documents)

    @ctx.tool(title="Semantic search", annotations=READ_ONLY)
    async def search(
        collection: CollectionName,
        query: Annotated[str, Field(description="What to look for, in natural language.")],
        k: Annotated[int, Field(ge=1, description="How many results.")] = 5,
        filter: Annotated[
            MetadataFilter | None,
            Field(description='Metadata that must match: {"lang": "en"}; a list means any of: {"topic": ["a", "b"]}.'),
        ] = None,
    ) -> list[Hit]:
        """The k documents closest in meaning to the query, best first, with their cosine similarity."""
        return await collections.search(collection, query, k, filter)

    @ctx.tool(title="Delete documents", annotations=DELETE)
    async def delete_documents(collection: CollectionName, ids: list[str]) -> DeleteResult:
        """Delete documents by id from a collection."""
        return await collections.delete(collection, ids)


def _check_name(collection: str) -> None:
    if not COLLECTION_NAME.match(collection):
        raise ToolError(
            f"invalid collection name {collection!r}: use lower-case letters, digits and _, starting with a letter, up to 48"
        )


def _check_filter(where: MetadataFilter | None) -> None:
    for key, wanted in (where or {}).items():
        if isinstance(wanted, list) and not wanted:
            raise ToolError(f"filter {key!r}: an empty list matches nothing; give at least one value")
