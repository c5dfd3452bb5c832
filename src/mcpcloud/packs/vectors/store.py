"""The vector-store adapter interface. The tools speak only to `VectorStore`; a new backend
(Pinecone, Qdrant, ...) is one more class with these methods, no change to the tools.
"""

from __future__ import annotations

import re
from typing import Annotated, Protocol

import numpy as np
from pydantic import BaseModel, Field

Scalar = str | int | float | bool
Metadata = dict[str, Scalar | None]
MetadataFilter = dict[str, Scalar | list[Scalar]]
"""`{"topic": "cooking"}` matches equal values; `{"topic": ["cooking", "sport"]}` matches any of them."""

COLLECTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


class Document(BaseModel):
    id: Annotated[str, Field(min_length=1, max_length=256, description="Your key; upserting the same id replaces it.")]
    text: str
    metadata: Metadata = Field(default_factory=dict, description="Flat JSON object of strings, numbers, booleans.")


class Hit(BaseModel):
    id: str
    text: str
    metadata: Metadata
    score: float = Field(description="Cosine similarity, 1 = same direction.")


class CollectionInfo(BaseModel):
    name: str
    model: str = Field(description="The embedding model the collection was built with.")
    dimension: int
    count: int


class StoreError(Exception):
    """The store failed or refused; the message says why and is safe to show."""


class VectorStore(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def ping(self) -> None: ...

    async def list_collections(self) -> list[CollectionInfo]: ...

    async def get_collection(self, name: str) -> CollectionInfo | None: ...

    async def create_collection(self, name: str, model: str, dimension: int) -> None: ...

    async def upsert(self, name: str, documents: list[Document], vectors: np.ndarray) -> None:
        """`vectors[i]` (L2-normalised) belongs to `documents[i]`."""
        ...

    async def search(self, name: str, vector: np.ndarray, k: int, where: MetadataFilter | None) -> list[Hit]: ...

    async def delete(self, name: str, ids: list[str]) -> int:
        """Delete these ids; return how many existed."""
        ...
