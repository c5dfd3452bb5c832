"""`[pack.vectors]`: the store backend and the embedding model."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from mcpcloud.config import Section


class EmbeddingSettings(Section):
    provider: Literal["local", "openai"] = Field(
        "local",
        description="`local`: multilingual-e5-small (4-bit, bundled, offline); "
        "`openai`: any OpenAI-compatible /v1/embeddings endpoint (OpenAI, Ollama, vLLM, TEI).",
    )
    model: str | None = Field(None, description="openai: the model name sent to the endpoint (required).")
    base_url: str = Field("https://api.openai.com/v1", description="openai: the API base; /embeddings is appended.")
    api_key: SecretStr | None = Field(None, description="openai: bearer token (or `api_key_file`).")
    dimensions: int | None = Field(None, gt=0, description="openai: ask for this many dimensions (text-embedding-3-*).")
    query_prefix: str = Field("", description="openai: text put before every search query (e5 models want 'query: ').")
    document_prefix: str = Field("", description="openai: text put before every document ('passage: ' for e5).")
    batch_size: int = Field(64, gt=0, le=2048, description="Texts per embedding request.")
    timeout_seconds: float = Field(30.0, gt=0, description="openai: longest wait for one request.")

    @model_validator(mode="after")
    def _openai_needs_model(self) -> EmbeddingSettings:
        if self.provider == "openai" and not self.model:
            raise ValueError("embeddings.model is required with provider = 'openai' (e.g. 'text-embedding-3-small')")
        return self


class PineconeSettings(Section):
    host: str = Field(
        description="The index host from the Pinecone console: https://INDEX-PROJECT.svc.ENV.pinecone.io."
    )
    api_key: SecretStr = Field(description="Pinecone API key (or `api_key_file`).")
    timeout_seconds: float = Field(30.0, gt=0, description="Longest wait for one Pinecone request.")


class VectorSettings(Section):
    backend: Literal["embedded", "pgvector", "pinecone"] = Field(
        "embedded",
        description="`embedded`: a SQLite file searched exactly with NumPy, no server; `pgvector`: PostgreSQL; "
        "`pinecone`: one Pinecone index, a namespace per collection.",
    )
    path: str = Field("mcpcloud-vectors.db", description="embedded: the SQLite file (created if missing).")
    url: str | None = Field(None, description="pgvector: postgresql://user@host:5432/db (password separately).")
    password: SecretStr | None = Field(None, description="pgvector: password (or `password_file`).")
    schema_name: str = Field(
        "public", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$", description="pgvector: schema of the tables."
    )
    pool_min_size: int = Field(1, ge=0)
    pool_max_size: int = Field(10, gt=0)
    pool_timeout_seconds: float = Field(10.0, gt=0)
    hnsw_m: int = Field(16, ge=2, le=100, description="pgvector: HNSW graph degree.")
    hnsw_ef_construction: int = Field(64, ge=4, le=1000, description="pgvector: HNSW build quality.")
    hnsw_ef_search: int = Field(100, ge=1, le=1000, description="pgvector: HNSW search breadth (recall vs speed).")
    max_k: int = Field(100, gt=0, le=1000, description="Most results one search may ask for.")
    max_documents_per_upsert: int = Field(500, gt=0, description="Most documents in one upsert call.")
    max_text_chars: int = Field(20_000, gt=0, description="Longest document text accepted.")
    embeddings: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    pinecone: PineconeSettings | None = Field(None, description="pinecone: the index host and API key.")

    @model_validator(mode="after")
    def _pgvector_needs_url(self) -> VectorSettings:
        if self.backend == "pgvector" and not self.url:
            raise ValueError("url is required with backend = 'pgvector' (postgresql://user@host:5432/db)")
        if self.url and not self.url.startswith(("postgresql://", "postgres://")):
            raise ValueError("url must start with postgresql://")
        if self.backend == "pinecone" and self.pinecone is None:
            raise ValueError("[pack.vectors.pinecone] host and api_key are required with backend = 'pinecone'")
        return self
