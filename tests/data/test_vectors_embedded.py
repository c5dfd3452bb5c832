"""What only the embedded backend does: persist in its SQLite file across restarts."""

from __future__ import annotations

from pathlib import Path

from data_helpers import connected, make_server


async def test_embedded_store_survives_a_restart(tmp_path: Path) -> None:
    settings = {"vectors": {"path": str(tmp_path / "sub" / "v.db")}}
    docs = [
        {"id": "1", "text": "roast chicken recipe", "metadata": {"k": "a"}},
        {"id": "2", "text": "the offside rule"},
    ]
    async with connected(make_server("vectors", settings)) as client:
        await client.call_tool("upsert_documents", {"collection": "keep", "documents": docs})
        await client.call_tool("delete_documents", {"collection": "keep", "ids": ["2"]})
    async with connected(make_server("vectors", settings)) as client:
        listed = (await client.call_tool("list_collections", {})).structured_content["result"]
        assert listed == [{"name": "keep", "model": "local/multilingual-e5-small-q4", "dimension": 384, "count": 1}]
        hits = (await client.call_tool("search", {"collection": "keep", "query": "dinner"})).structured_content[
            "result"
        ]
        assert [(h["id"], h["metadata"]) for h in hits] == [("1", {"k": "a"})]


async def test_unwritable_path_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    server = make_server("vectors", {"vectors": {"path": str(blocker / "v.db")}})
    try:
        async with connected(server) as client:
            await client.list_tools()
    except Exception as exc:  # noqa: BLE001  # the lifespan fails: no server on a store it cannot open
        assert "cannot open vector store file" in "".join(str(e) for e in _chain(exc))
    else:
        raise AssertionError("the server started on an unusable store path")


def _chain(exc: BaseException) -> list[BaseException]:
    found = [exc]
    for inner in getattr(exc, "exceptions", ()):
        found += _chain(inner)
    if exc.__cause__:
        found += _chain(exc.__cause__)
    return found


def test_filter_uses_json_equality() -> None:
    """As jsonb containment in pgvector: 1 equals 1.0, true is not 1, a missing key never matches."""
    import numpy as np

    from mcpcloud.packs.vectors.embedded import Snapshot
    from mcpcloud.packs.vectors.store import CollectionInfo

    snap = Snapshot(
        info=CollectionInfo(name="a", model="m", dimension=2, count=4),
        ids=list("abcd"), texts=list("abcd"),
        metadata=[{"x": True}, {"x": 1}, {"x": 1.0, "y": "s"}, {}],
        matrix=np.zeros((4, 2), dtype=np.float32),
    )  # fmt: skip
    assert snap.rows_matching({"x": 1}).tolist() == [False, True, True, False]
    assert snap.rows_matching({"x": True}).tolist() == [True, False, False, False]
    assert snap.rows_matching({"x": [1, True], "y": "s"}).tolist() == [False, False, True, False]
    assert snap.rows_matching({"z": 1}).tolist() == [False] * 4
