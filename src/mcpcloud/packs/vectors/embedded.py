"""The embedded backend: documents in a SQLite file, searched exactly with NumPy in memory.

Needs no server and no SQLite extension (pyenv/python.org Pythons cannot load one). Each
collection is held as an immutable snapshot; a write builds the next snapshot and swaps it
in, so a search running in a worker thread never sees half a write. Exact search is O(n):
about right up to a few hundred thousand vectors (see bench/README.md).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import numpy as np

from mcpcloud.packs.vectors.store import CollectionInfo, Document, Hit, MetadataFilter, StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS collections (
    name TEXT PRIMARY KEY, model TEXT NOT NULL, dimension INTEGER NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS documents (
    collection TEXT NOT NULL REFERENCES collections(name) ON DELETE CASCADE,
    id TEXT NOT NULL, text TEXT NOT NULL, metadata TEXT NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (collection, id)
);
"""


@dataclass(frozen=True)
class Snapshot:
    info: CollectionInfo
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    metadata: list[dict[str, Any]] = field(default_factory=list)
    matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    by_value: dict[str, dict[tuple[str, Any], np.ndarray]] = field(default_factory=dict, compare=False, repr=False)
    """Metadata key -> value -> row numbers, built on the first filtered search (a snapshot never changes)."""

    def rows_matching(self, where: MetadataFilter) -> np.ndarray:
        """Boolean mask: every key matches; a list means any of its values (JSON equality: true is not 1)."""
        mask = np.ones(len(self.ids), dtype=bool)
        for key, wanted in where.items():
            index = self.by_value.get(key)
            if index is None:
                index = self.by_value[key] = _value_index(self.metadata, key)
            allowed = np.zeros(len(self.ids), dtype=bool)
            for option in wanted if isinstance(wanted, list) else [wanted]:
                allowed[index.get(_tag(option), _NO_ROWS)] = True
            mask &= allowed
        return mask


class EmbeddedStore:
    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._collections: dict[str, Snapshot] = {}
        self._write_lock = anyio.Lock()

    async def open(self) -> None:
        self._collections = await anyio.to_thread.run_sync(self._load)

    async def close(self) -> None:
        self._collections = {}

    async def ping(self) -> None:
        await anyio.to_thread.run_sync(self._db_call, lambda db: db.execute("SELECT 1").fetchone())

    async def list_collections(self) -> list[CollectionInfo]:
        return [snap.info for _, snap in sorted(self._collections.items())]

    async def get_collection(self, name: str) -> CollectionInfo | None:
        snap = self._collections.get(name)
        return snap.info if snap else None

    async def create_collection(self, name: str, model: str, dimension: int) -> None:
        async with self._write_lock:
            await anyio.to_thread.run_sync(
                self._db_call,
                lambda db: db.execute(
                    "INSERT INTO collections (name, model, dimension) VALUES (?, ?, ?)", (name, model, dimension)
                ),
            )
            info = CollectionInfo(name=name, model=model, dimension=dimension, count=0)
            self._collections[name] = Snapshot(info=info, matrix=np.zeros((0, dimension), dtype=np.float32))

    async def upsert(self, name: str, documents: list[Document], vectors: np.ndarray) -> None:
        rows = [
            (name, doc.id, doc.text, json.dumps(doc.metadata), np.asarray(vec, dtype=np.float32).tobytes())
            for doc, vec in zip(documents, vectors, strict=True)
        ]
        async with self._write_lock:
            snap = self._snapshot(name)
            await anyio.to_thread.run_sync(
                self._db_call,
                lambda db: db.executemany(
                    "INSERT INTO documents (collection, id, text, metadata, vector) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (collection, id) DO UPDATE SET text = excluded.text, metadata = excluded.metadata, "
                    "vector = excluded.vector",
                    rows,
                ),
            )
            self._collections[name] = _with_upserts(snap, documents, np.asarray(vectors, dtype=np.float32))

    async def search(self, name: str, vector: np.ndarray, k: int, where: MetadataFilter | None) -> list[Hit]:
        snap = self._snapshot(name)
        return await anyio.to_thread.run_sync(_search, snap, np.asarray(vector, dtype=np.float32), k, where)

    async def delete(self, name: str, ids: list[str]) -> int:
        async with self._write_lock:
            snap = self._snapshot(name)
            doomed = set(ids) & set(snap.ids)
            await anyio.to_thread.run_sync(
                self._db_call,
                lambda db: db.executemany(
                    "DELETE FROM documents WHERE collection = ? AND id = ?", [(name, i) for i in doomed]
                ),
            )
            keep = [i for i, doc_id in enumerate(snap.ids) if doc_id not in doomed]
            self._collections[name] = _select(snap, keep)
            return len(doomed)

    def _snapshot(self, name: str) -> Snapshot:
        snap = self._collections.get(name)
        if snap is None:
            raise StoreError(f"no collection named {name!r} (list_collections shows what exists)")
        return snap

    def _connect(self) -> sqlite3.Connection:
        try:
            if self.path.parent != Path():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=10)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open vector store file {str(self.path)!r}: {exc}") from None
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA journal_mode = WAL")
        return db

    def _db_call(self, fn: Any) -> Any:
        db = self._connect()
        try:
            with db:
                return fn(db)
        except sqlite3.Error as exc:
            raise StoreError(f"vector store file {str(self.path)!r}: {exc}") from None
        finally:
            db.close()

    def _load(self) -> dict[str, Snapshot]:
        def load(db: sqlite3.Connection) -> dict[str, Snapshot]:
            db.executescript(SCHEMA)
            snapshots = {}
            for name, model, dimension in db.execute("SELECT name, model, dimension FROM collections").fetchall():
                rows = db.execute(
                    "SELECT id, text, metadata, vector FROM documents WHERE collection = ?", (name,)
                ).fetchall()
                matrix = np.frombuffer(b"".join(r[3] for r in rows), dtype=np.float32).reshape(len(rows), dimension)
                snapshots[name] = Snapshot(
                    info=CollectionInfo(name=name, model=model, dimension=dimension, count=len(rows)),
                    ids=[r[0] for r in rows],
                    texts=[r[1] for r in rows],
                    metadata=[json.loads(r[2]) for r in rows],
                    matrix=matrix.copy(),
                )
            return snapshots

        return self._db_call(load)


_NO_ROWS = np.zeros(0, dtype=np.int64)


def _tag(value: Any) -> tuple[str, Any]:
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("number", float(value))
    return (type(value).__name__, value)


def _value_index(metadata: list[dict[str, Any]], key: str) -> dict[tuple[str, Any], np.ndarray]:
    rows: dict[tuple[str, Any], list[int]] = {}
    for i, item in enumerate(metadata):
        if key in item:
            rows.setdefault(_tag(item[key]), []).append(i)
    return {tag: np.array(found, dtype=np.int64) for tag, found in rows.items()}


def _with_upserts(snap: Snapshot, documents: list[Document], vectors: np.ndarray) -> Snapshot:
    position = {doc_id: i for i, doc_id in enumerate(snap.ids)}
    ids, texts, metadata = list(snap.ids), list(snap.texts), list(snap.metadata)
    replaced: dict[int, int] = {}
    appended: list[int] = []
    for j, doc in enumerate(documents):
        i = position.get(doc.id)
        if i is None:
            position[doc.id] = len(ids)
            ids.append(doc.id)
            texts.append(doc.text)
            metadata.append(doc.metadata)
            appended.append(j)
        else:
            texts[i], metadata[i] = doc.text, doc.metadata
            replaced[i] = j
    matrix = np.vstack([snap.matrix, vectors[appended]]) if appended else snap.matrix.copy()
    for i, j in replaced.items():
        matrix[i] = vectors[j]
    info = snap.info.model_copy(update={"count": len(ids)})
    return Snapshot(info=info, ids=ids, texts=texts, metadata=metadata, matrix=matrix)


def _select(snap: Snapshot, keep: list[int]) -> Snapshot:
    info = snap.info.model_copy(update={"count": len(keep)})
    return Snapshot(
        info=info,
        ids=[snap.ids[i] for i in keep],
        texts=[snap.texts[i] for i in keep],
        metadata=[snap.metadata[i] for i in keep],
        matrix=snap.matrix[keep],
    )


def _search(snap: Snapshot, vector: np.ndarray, k: int, where: MetadataFilter | None) -> list[Hit]:
    if not snap.ids:
        return []
    scores = snap.matrix @ vector
    if where:
        scores = np.where(snap.rows_matching(where), scores, -np.inf)
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [
        Hit(id=snap.ids[i], text=snap.texts[i], metadata=snap.metadata[i], score=float(scores[i]))
        for i in top
        if np.isfinite(scores[i])
    ]
