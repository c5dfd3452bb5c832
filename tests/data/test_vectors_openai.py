"""OpenAI-compatible embeddings against a local server speaking that wire format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corpus import QUERIES, documents
from data_helpers import connected, error_text, make_server
from openai_wire import API_KEY


def settings(base_url: str, tmp_path: Path, **embeddings: Any) -> dict[str, Any]:
    return {
        "vectors": {
            "path": str(tmp_path / "v.db"),
            "embeddings": {
                "provider": "openai",
                "model": "e5-small",
                "base_url": base_url,
                "api_key": API_KEY,
                "query_prefix": "query: ",
                "document_prefix": "passage: ",
                "batch_size": 16,
                **embeddings,
            },
        }
    }


async def test_openai_embeddings_search_and_batching(
    openai_wire: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    base_url, requests = openai_wire
    docs = [d for d in documents() if sum(map(int, str(d["id"]).split("-")[1:])) % 5 == 0]  # 10 per topic, mixed frames
    async with connected(make_server("vectors", settings(base_url, tmp_path))) as client:
        before = len(requests)
        upserted = (
            await client.call_tool("upsert_documents", {"collection": "remote", "documents": docs})
        ).structured_content
        assert upserted["model"] == "openai/e5-small" and upserted["dimension"] == 384
        sent = requests[before:]
        assert [len(r["input"]) for r in sent] == [16, 16, 16, 12]
        assert all("dimensions" not in r and r["input"][0].startswith("passage: ") for r in sent)
        for topic, query in QUERIES.items():
            hits = (
                await client.call_tool("search", {"collection": "remote", "query": query, "k": 5})
            ).structured_content["result"]
            assert {h["metadata"]["topic"] for h in hits} == {topic}
        assert requests[-1]["input"] == ["query: " + QUERIES["finance"]]


async def test_endpoint_errors_are_named_and_the_key_never_shown(openai_server: str, tmp_path: Path) -> None:
    doc = {"collection": "remote", "documents": [{"id": "1", "text": "hello"}]}
    async with connected(
        make_server("vectors", settings(openai_server, tmp_path, api_key="wrong-secret-key"))
    ) as client:
        message = error_text(await client.call_tool("upsert_documents", doc))
        assert "embedding endpoint answered 401: Incorrect API key provided." in message
        assert "wrong-secret-key" not in message
    async with connected(make_server("vectors", settings(openai_server, tmp_path, model="gpt-nope"))) as client:
        assert "answered 404: The model `gpt-nope` does not exist." in error_text(
            await client.call_tool("upsert_documents", doc)
        )
    async with connected(make_server("vectors", settings("http://127.0.0.1:1/v1", tmp_path))) as client:
        assert "embedding endpoint http://127.0.0.1:1/v1 unreachable" in error_text(
            await client.call_tool("upsert_documents", doc)
        )
        assert (await client.call_tool("list_collections", {})).structured_content["result"] == []


async def test_dimension_change_is_a_clear_error(openai_server: str, tmp_path: Path) -> None:
    async with connected(make_server("vectors", settings(openai_server, tmp_path, dimensions=64))) as client:
        await client.call_tool("upsert_documents", {"collection": "dims", "documents": [{"id": "1", "text": "soup"}]})
    async with connected(make_server("vectors", settings(openai_server, tmp_path, dimensions=96))) as client:
        message = error_text(await client.call_tool("search", {"collection": "dims", "query": "soup"}))
        assert "built with model 'openai/e5-small' (64 dimensions)" in message and "(96 dimensions)" in message
