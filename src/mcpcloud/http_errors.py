"""HTTP refusals in the JSON-RPC error shape, so MCP clients can read why they were refused."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

INVALID_REQUEST = -32600


def json_rpc_error_response(
    status: int,
    message: str,
    *,
    code: int = INVALID_REQUEST,
    headers: dict[str, str] | None = None,
    request_id: str | int | None = None,
    data: Any = None,
) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    body = {"jsonrpc": "2.0", "id": request_id, "error": error}
    return JSONResponse(body, status_code=status, headers=headers)
