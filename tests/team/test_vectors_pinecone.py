"""The vectors pack's Pinecone backend against a local server speaking Pinecone's data-plane REST
format, through the official `pinecone` SDK: the same tools and model/dimension checks as the
other backends (the embeddings are the bundled local model, 384 dimensions).
"""

from __future__ import annotations

from typing import Any

from pinecone_wire import API_KEY, PineconeWire
from team_helpers import pack_client, refusal

from mcpcloud.packs.vectors.embeddings import LOCAL_MODEL_ID

DOCS = [
    {
        "id": "c1",
        "text": "A simple recipe for sourdough bread you can bake at home.",
        "metadata": {"topic": "cooking", "lang": "en"},
    },
    {
        "id": "c2",
        "text": "How long to simmer tomato soup and which spices to add.",
        "metadata": {"topic": "cooking", "lang": "en"},
    },
    {
        "id": "a1",
        "text": "Telescopes reveal new details about the Andromeda galaxy.",
        "metadata": {"topic": "astronomy", "lang": "en"},
    },
    {
        "id": "a2",
        "text": "Les astronomes observent les anneaux de Saturne.",
        "metadata": {"topic": "astronomy", "lang": "fr"},
    },
    {
        "id": "f1",
        "text": "The striker scored in the penalty shootout of the final.",
        "metadata": {"topic": "football", "lang": "en", "note": None},
    },
]


def pinecone(wire: PineconeWire, **extra: Any) -> dict[str, Any]:
    return {"vectors": {"backend": "pinecone", "pinecone": {"host": wire.base_url, "api_key": API_KEY, **extra}}}


async def test_same_tools_on_pinecone(pinecone_index: PineconeWire) -> None:
    async with pack_client("vectors", pinecone(pinecone_index)) as client:
        upserted = (
            await client.call_tool("upsert_documents", {"collection": "kb", "documents": DOCS})
        ).structured_content
        assert upserted == {
            "collection": "kb",
            "upserted": 5,
            "created": True,
            "model": LOCAL_MODEL_ID,
            "dimension": 384,
        }
        listed = (await client.call_tool("list_collections", {})).structured_content["result"]
        assert listed == [{"name": "kb", "model": LOCAL_MODEL_ID, "dimension": 384, "count": 5}]

        hits = (
            await client.call_tool("search", {"collection": "kb", "query": "baking bread at home", "k": 2})
        ).structured_content
        assert hits["result"][0]["id"] == "c1" and len(hits["result"]) == 2
        assert hits["result"][0]["text"] == DOCS[0]["text"] and hits["result"][0]["metadata"] == {
            "topic": "cooking",
            "lang": "en",
        }
        assert 0 < hits["result"][0]["score"] <= 1
        space = (
            await client.call_tool(
                "search",
                {
                    "collection": "kb",
                    "query": "planets and stars",
                    "k": 5,
                    "filter": {"topic": "astronomy", "lang": ["fr", "de"]},
                },
            )
        ).structured_content
        assert [h["id"] for h in space["result"]] == ["a2"]
        everything = (
            await client.call_tool("search", {"collection": "kb", "query": "anything", "k": 10})
        ).structured_content
        assert sorted(h["id"] for h in everything["result"]) == ["a1", "a2", "c1", "c2", "f1"]  # never the marker

        deleted = (
            await client.call_tool("delete_documents", {"collection": "kb", "ids": ["c2", "nope", "c2"]})
        ).structured_content
        assert deleted == {"collection": "kb", "deleted": 1}
        assert "c2" not in pinecone_index.namespaces["kb"]
        again = (
            await client.call_tool("upsert_documents", {"collection": "kb", "documents": DOCS[:1]})
        ).structured_content
        assert again["created"] is False
    paths = {path for _, path in pinecone_index.requests}
    assert paths == {"/vectors/upsert", "/query", "/vectors/fetch", "/vectors/delete", "/describe_index_stats"}


async def test_model_and_dimension_checks(pinecone_index: PineconeWire) -> None:
    pinecone_index.namespaces["old"] = {
        "__mcpcloud_collection__": {
            "id": "__mcpcloud_collection__",
            "values": [1.0] + [0.0] * 383,
            "metadata": {"mcpcloud_model": "openai/text-embedding-3-small", "mcpcloud_dimension": 384},
        }
    }
    pinecone_index.namespaces["foreign"] = {"x": {"id": "x", "values": [0.5] * 384, "metadata": {}}}
    async with pack_client("vectors", pinecone(pinecone_index)) as client:
        message = refusal(await client.call_tool("search", {"collection": "old", "query": "soup"}))
        assert "built with model 'openai/text-embedding-3-small' (384 dimensions)" in message
        assert "no collection named 'foreign'" in refusal(
            await client.call_tool("search", {"collection": "foreign", "query": "x"})
        )
        message = refusal(await client.call_tool("upsert_documents", {"collection": "foreign", "documents": DOCS[:1]}))
        assert "namespace 'foreign' of the Pinecone index holds vectors mcpcloud did not write" in message
        reserved = {"id": "__mcpcloud_collection__", "text": "sneaky"}
        message = refusal(await client.call_tool("upsert_documents", {"collection": "kb", "documents": [reserved]}))
        assert "'__mcpcloud_collection__' is reserved" in message
        assert [c["name"] for c in (await client.call_tool("list_collections", {})).structured_content["result"]] == [
            "kb",
            "old",
        ]

        pinecone_index.dimension = 1024
        message = refusal(await client.call_tool("upsert_documents", {"collection": "wide", "documents": DOCS[:1]}))
        assert "has dimension 1024 but model 'local/multilingual-e5-small-q4' makes 384-dimensional vectors" in message
        pinecone_index.dimension, pinecone_index.metric = 384, "euclidean"
        message = refusal(await client.call_tool("upsert_documents", {"collection": "far", "documents": DOCS[:1]}))
        assert "uses metric 'euclidean'" in message and "create the index with metric 'cosine'" in message
        assert "wide" not in pinecone_index.namespaces and "far" not in pinecone_index.namespaces


async def test_pinecone_errors_are_named_and_the_key_never_shown(pinecone_index: PineconeWire) -> None:
    async with pack_client("vectors", pinecone(pinecone_index, api_key="pcsk_wrong_secret")) as client:
        message = refusal(await client.call_tool("list_collections", {}))
        assert "Pinecone answered 401: Invalid API Key" in message and "pcsk_wrong_secret" not in message
