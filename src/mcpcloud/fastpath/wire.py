"""What the fast path writes: a JSON-RPC response as the SDK writes it, encoded once, sent in one piece.

The SDK answers a 2026-07-28 request that emitted no notification with `application/json` and
the status its error table maps the JSON-RPC code to (`_streamable_http_modern._write`); these
helpers produce the same status, headers and JSON.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from mcp.server.runner import modern_error_data
from mcp.shared.inbound import ERROR_CODE_HTTP_STATUS
from mcp_types import JSONRPCError
from starlette.types import Send

_CONTENT_TYPE = (b"content-type", b"application/json")


def dumps(value: Any) -> bytes:
    """orjson (~20× faster than `json.dumps` on a tools/call result here, bench/README.md); `json` for what
    orjson refuses (integers beyond 64 bits, lone surrogates), so anything the SDK can write, this can."""
    try:
        return orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value, separators=(",", ":")).encode()


def loads(body: bytes) -> Any:
    """The decoded body; raises ValueError for anything orjson refuses (the SDK then judges the body itself)."""
    return orjson.loads(body)


def canonical(value: Any) -> bytes:
    """A key for a JSON value: equal values, equal bytes."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def result_body(request_id: int | str, result: bytes) -> bytes:
    """The JSON-RPC response around an already-encoded result."""
    return b'{"jsonrpc":"2.0","id":' + dumps(request_id) + b',"result":' + result + b"}"


def error_body(request_id: int | str, exc: Exception) -> tuple[int, bytes]:
    """The status and body the SDK answers a handler exception with (`modern_error_data` maps it)."""
    error = JSONRPCError(jsonrpc="2.0", id=request_id, error=modern_error_data(exc))
    status = ERROR_CODE_HTTP_STATUS.get(error.error.code, 200)
    return status, dumps(error.model_dump(mode="json", by_alias=True, exclude_none=True))


async def send_json(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-length", str(len(body)).encode()), _CONTENT_TYPE],
        }
    )
    await send({"type": "http.response.body", "body": body})
