"""A local server speaking Pinecone's data-plane REST format (docs.pinecone.io/reference/api/data-plane).

One dense index: `Api-Key` header; POST /vectors/upsert, POST /query (exact search by the index's
metric, metadata filters with $eq $ne $in $nin $gt $gte $lt $lte $and $or), GET /vectors/fetch
(repeated `ids`), POST /vectors/delete, POST /describe_index_stats; camelCase JSON
(`topK`, `includeMetadata`, `upsertedCount`, `vectorCount`); errors as
`{"code": <grpc code>, "message": ..., "details": []}` with the HTTP status, as Pinecone does.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

API_KEY = "pcsk_test_wire_key"
COMPARE = {
    "$eq": operator.eq,
    "$ne": operator.ne,
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$lt": operator.lt,
    "$lte": operator.le,
    "$in": lambda v, wanted: v in wanted,
    "$nin": lambda v, wanted: v not in wanted,
}


@dataclass
class PineconeWire:
    dimension: int = 384
    metric: str = "cosine"
    namespaces: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    base_url: str = ""


def matches(metadata: dict[str, Any], flt: dict[str, Any] | None) -> bool:
    if not flt:
        return True
    for key, cond in flt.items():
        if key == "$and":
            if not all(matches(metadata, c) for c in cond):
                return False
        elif key == "$or":
            if not any(matches(metadata, c) for c in cond):
                return False
        else:
            conditions = cond if isinstance(cond, dict) else {"$eq": cond}
            for op, wanted in conditions.items():
                if key not in metadata and op not in ("$ne", "$nin"):
                    return False
                if key in metadata and not COMPARE[op](metadata[key], wanted):
                    return False
    return True


def error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "details": []}, status)


def make_app(wire: PineconeWire) -> Starlette:
    def score(a: list[float], b: list[float]) -> float:
        va, vb = np.asarray(a), np.asarray(b)
        if wire.metric == "dotproduct":
            return float(va @ vb)
        if wire.metric == "euclidean":
            return float(np.sum((va - vb) ** 2))
        return float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))

    def check_values(values: Any) -> str | None:
        if not isinstance(values, list) or len(values) != wire.dimension:
            return f"Vector dimension {len(values) if isinstance(values, list) else 0} does not match the dimension of the index {wire.dimension}"
        if not any(values):
            return "Dense vectors must contain at least one non-zero value."
        return None

    async def upsert(request: Request, body: dict[str, Any]) -> Response:
        vectors = body.get("vectors") or []
        if not vectors or len(vectors) > 1000:
            return error(400, 3, "The request must contain between 1 and 1000 vectors")
        for v in vectors:
            problem = check_values(v.get("values"))
            if problem:
                return error(400, 3, problem)
            if any(value is None for value in (v.get("metadata") or {}).values()):
                return error(400, 3, "Metadata value must be a string, number, boolean or list of strings, got 'null'")
        space = wire.namespaces.setdefault(body.get("namespace", ""), {})
        for v in vectors:
            space[v["id"]] = {"id": v["id"], "values": v["values"], "metadata": v.get("metadata") or {}}
        return JSONResponse({"upsertedCount": len(vectors)})

    async def query(request: Request, body: dict[str, Any]) -> Response:
        top_k = body.get("topK")
        if not isinstance(top_k, int) or not 1 <= top_k <= 10_000:
            return error(400, 3, "topK must be between 1 and 10000")
        problem = check_values(body.get("vector"))
        if problem:
            return error(400, 3, problem)
        space = wire.namespaces.get(body.get("namespace", ""), {})
        found = [v for v in space.values() if matches(v["metadata"], body.get("filter"))]
        scored = sorted(
            ((score(body["vector"], v["values"]), v) for v in found),
            key=lambda p: p[0],
            reverse=wire.metric != "euclidean",
        )[:top_k]
        out = [
            {"id": v["id"], "score": s, "values": v["values"] if body.get("includeValues") else []}
            | ({"metadata": v["metadata"]} if body.get("includeMetadata") else {})
            for s, v in scored
        ]
        return JSONResponse({"matches": out, "namespace": body.get("namespace", ""), "usage": {"readUnits": 5}})

    async def fetch(request: Request) -> Response:
        ids = request.query_params.getlist("ids")
        if not ids:
            return error(400, 3, "ids must contain at least one id")
        namespace = request.query_params.get("namespace", "")
        space = wire.namespaces.get(namespace, {})
        return JSONResponse(
            {"vectors": {i: space[i] for i in ids if i in space}, "namespace": namespace, "usage": {"readUnits": 1}}
        )

    async def delete(request: Request, body: dict[str, Any]) -> Response:
        space = wire.namespaces.get(body.get("namespace", ""), {})
        for i in body.get("ids") or []:
            space.pop(i, None)
        if body.get("deleteAll"):
            space.clear()
        return JSONResponse({})

    async def stats(request: Request, body: dict[str, Any]) -> Response:
        spaces = {ns or "__default__": {"vectorCount": len(v)} for ns, v in wire.namespaces.items() if v}
        return JSONResponse(
            {
                "namespaces": spaces,
                "dimension": wire.dimension,
                "indexFullness": 0.0,
                "totalVectorCount": sum(s["vectorCount"] for s in spaces.values()),
                "metric": wire.metric,
                "vectorType": "dense",
            }
        )

    handlers = {"/vectors/upsert": upsert, "/query": query, "/vectors/delete": delete, "/describe_index_stats": stats}

    async def entry(request: Request) -> Response:
        wire.requests.append((request.method, request.url.path))
        if request.headers.get("api-key") != API_KEY:
            return JSONResponse(
                {"error": {"code": "UNAUTHENTICATED", "message": "Invalid API Key"}, "status": 401}, 401
            )
        if request.url.path == "/vectors/fetch" and request.method == "GET":
            return await fetch(request)
        handler = handlers.get(request.url.path)
        if handler is None or request.method != "POST":
            return error(404, 5, f"Not Found: {request.method} {request.url.path}")
        return await handler(request, await request.json())

    return Starlette(routes=[Route("/{path:path}", entry, methods=["GET", "POST"])])
