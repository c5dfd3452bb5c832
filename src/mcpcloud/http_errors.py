"""HTTP refusals in the JSON-RPC error shape, so MCP clients can read why they were refused."""

from __future__ import annotations

from starlette.responses import JSONResponse

INVALID_REQUEST = -32600


def json_rpc_error_response(
    status: int, message: str, *, code: int = INVALID_REQUEST, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)
