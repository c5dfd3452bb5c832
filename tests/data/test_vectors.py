"""The vectors pack on both backends (embedded SQLite + NumPy; pgvector on a real PostgreSQL).

The corpus has six distinct topics; the right neighbours of each topic's query are that
topic's documents, so search quality is checked against known answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from corpus import QUERIES, TOPICS, documents
from data_helpers import connected, error_text, make_server
from mcp import Client

BACKENDS = ["embedded", "pgvector"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    if request.param == "pgvector":
        url = request.getfixturevalue("pgvector_db")
        return {"backend": "pgvector", "url": url, "pool_max_size": 4}
    return {"backend": "embedded", "path": str(tmp_path / "vectors.db")}


async def upsert_corpus(client: Client, collection: str) -> None:
    docs = documents()
    for start in range(0, len(docs), 100):
        result = await client.call_tool(
            "upsert_documents", {"collection": collection, "documents": docs[start : start + 100]}
        )
        assert not result.is_error, result.content


def unique_name(backend: dict[str, Any], base: str) -> str:
    import uuid

    return f"{base}_{uuid.uuid4().hex[:8]}"


async def test_search_finds_the_right_neighbours(backend: dict[str, Any]) -> None:
    async with connected(make_server("vectors", {"vectors": backend})) as client:
        name = unique_name(backend, "corpus")
        await upsert_corpus(client, name)
        for topic, query in QUERIES.items():
            hits = (await client.call_tool("search", {"collection": name, "query": query, "k": 10})).structured_content[
                "result"
            ]
            assert [h["metadata"]["topic"] for h in hits] == [topic] * 10, f"{topic}: {[h['id'] for h in hits]}"
            scores = [h["score"] for h in hits]
            assert scores == sorted(scores, reverse=True) and 0 < scores[-1] <= scores[0] <= 1.0001
        listed = (await client.call_tool("list_collections", {})).structured_content["result"]
        mine = next(c for c in listed if c["name"] == name)
        assert mine == {"name": name, "model": "local/multilingual-e5-small-q4", "dimension": 384, "count": 300}


async def test_metadata_filter_restricts_results(backend: dict[str, Any]) -> None:
    async with connected(make_server("vectors", {"vectors": backend})) as client:
        name = unique_name(backend, "filtered")
        await upsert_corpus(client, name)
        # A cooking query restricted to gardening must return only gardening documents.
        only = await client.call_tool(
            "search", {"collection": name, "query": QUERIES["cooking"], "k": 5, "filter": {"topic": "gardening"}}
        )
        assert {h["metadata"]["topic"] for h in only.structured_content["result"]} == {"gardening"}
        assert len(only.structured_content["result"]) == 5
        either = await client.call_tool(
            "search",
            {
                "collection": name,
                "query": QUERIES["finance"],
                "k": 20,
                "filter": {"topic": ["finance", "football"], "n": 3},
            },
        )
        hits = either.structured_content["result"]
        assert sorted(h["id"] for h in hits) == ["finance-0-3", "football-0-3"]
        assert hits[0]["id"] == "finance-0-3"
        nothing = await client.call_tool("search", {"collection": name, "query": "x", "filter": {"topic": "knitting"}})
        assert nothing.structured_content["result"] == []
        empty = await client.call_tool("search", {"collection": name, "query": "x", "filter": {"topic": []}})
        assert "an empty list matches nothing" in error_text(empty)


async def test_upsert_replaces_and_delete_removes(backend: dict[str, Any]) -> None:
    async with connected(make_server("vectors", {"vectors": backend})) as client:
        name = unique_name(backend, "small")
        docs = [
            {"id": "a", "text": "The recipe for tomato soup", "metadata": {"v": 1}},
            {"id": "b", "text": "Telescopes observe distant galaxies"},
        ]
        created = (
            await client.call_tool("upsert_documents", {"collection": name, "documents": docs})
        ).structured_content
        assert created["created"] is True and created["upserted"] == 2
        replaced = await client.call_tool(
            "upsert_documents",
            {
                "collection": name,
                "documents": [{"id": "a", "text": "Python unit tests and debugging", "metadata": {"v": 2}}],
            },
        )
        assert replaced.structured_content["created"] is False
        hit = (
            await client.call_tool("search", {"collection": name, "query": "software bugs", "k": 1})
        ).structured_content["result"]
        assert hit[0]["id"] == "a" and hit[0]["metadata"] == {"v": 2} and hit[0]["text"].startswith("Python")
        deleted = await client.call_tool("delete_documents", {"collection": name, "ids": ["a", "zzz"]})
        assert deleted.structured_content == {"collection": name, "deleted": 1}
        rest = (
            await client.call_tool("search", {"collection": name, "query": "software bugs", "k": 5})
        ).structured_content["result"]
        assert [h["id"] for h in rest] == ["b"]


async def test_bad_inputs_are_named(backend: dict[str, Any]) -> None:
    async with connected(make_server("vectors", {"vectors": backend})) as client:
        name = unique_name(backend, "inputs")
        await client.call_tool(
            "upsert_documents", {"collection": name, "documents": [{"id": "x", "text": "hello world"}]}
        )
        cases = [
            ("search", {"collection": "nope_" + name, "query": "hi"}, "no collection named"),
            ("search", {"collection": "Bad-Name", "query": "hi"}, "invalid collection name 'Bad-Name'"),
            ("search", {"collection": name, "query": "   "}, "query is empty"),
            ("search", {"collection": name, "query": "hi", "k": 5000}, "k = 5000 is above the limit of 100"),
            ("upsert_documents", {"collection": name, "documents": []}, "documents is empty"),
            (
                "upsert_documents",
                {"collection": name, "documents": [{"id": "d", "text": "a"}, {"id": "d", "text": "b"}]},
                "document id 'd' appears more than once",
            ),
            (
                "upsert_documents",
                {"collection": name, "documents": [{"id": "e", "text": " "}]},
                "document 'e' has empty text",
            ),
            (
                "upsert_documents",
                {"collection": name, "documents": [{"id": "f", "text": "t", "metadata": {"nested": {"a": 1}}}]},
                "metadata",
            ),
            ("delete_documents", {"collection": name, "ids": []}, "ids is empty"),
        ]
        for tool, args, reason in cases:
            result = await client.call_tool(tool, args)
            assert reason in error_text(result), (tool, args)
        still = (await client.call_tool("search", {"collection": name, "query": "hello", "k": 5})).structured_content[
            "result"
        ]
        assert [h["id"] for h in still] == ["x"]


async def test_collection_remembers_its_model(backend: dict[str, Any], openai_server: str) -> None:
    """A collection built by the local model is refused to a server embedding with another model."""
    name = unique_name(backend, "model")
    async with connected(make_server("vectors", {"vectors": backend})) as local:
        await local.call_tool(
            "upsert_documents", {"collection": name, "documents": [{"id": "1", "text": "soup recipe"}]}
        )
    other = {
        **backend,
        "embeddings": {
            "provider": "openai",
            "model": "e5-small",
            "base_url": openai_server,
            "api_key": "test-key",
            "dimensions": 128,
        },
    }
    async with connected(make_server("vectors", {"vectors": other})) as remote:
        for tool, args in [
            ("search", {"collection": name, "query": "soup"}),
            ("upsert_documents", {"collection": name, "documents": [{"id": "2", "text": "x"}]}),
        ]:
            message = error_text(await remote.call_tool(tool, args))
            assert (
                f"collection {name!r} was built with model 'local/multilingual-e5-small-q4' (384 dimensions)" in message
            )
            assert "'openai/e5-small' (128 dimensions)" in message


def test_topics_are_distinct() -> None:
    assert len(documents()) == 300 and len(TOPICS) == len(QUERIES) == 6
