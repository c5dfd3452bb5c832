"""Serving over stdio: one client, the process's own standard input and output."""

from __future__ import annotations

import anyio
from mcp.server.stdio import stdio_server
from mcp.shared._context_streams import create_context_streams
from mcp.shared.message import SessionMessage
from mcp_types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError
from pydantic import ValidationError

from mcpcloud.server import McpCloud


def serve_stdio(server: McpCloud) -> None:
    anyio.run(_serve, server)


async def _serve(server: McpCloud) -> None:
    lowlevel = server.mcp._lowlevel_server  # the SDK exposes no public accessor for the low-level server
    async with stdio_server() as (read_stream, write_stream):
        answered_read, answered_read_out = create_context_streams[SessionMessage | Exception](0)

        async def answer_parse_errors() -> None:
            # The SDK drops a line that is not JSON-RPC without a word; JSON-RPC 2.0 says the
            # peer gets a parse error (id null), so a client can tell what went wrong.
            async with answered_read:
                async for item in read_stream:
                    if isinstance(item, Exception):
                        error = _describe_bad_line(item)
                        await write_stream.send(SessionMessage(JSONRPCError(jsonrpc="2.0", id=None, error=error)))
                    else:
                        await answered_read.send(item)

        async with anyio.create_task_group() as tg:
            tg.start_soon(answer_parse_errors)
            await lowlevel.run(answered_read_out, write_stream, lowlevel.create_initialization_options())
            tg.cancel_scope.cancel()


def _describe_bad_line(exc: Exception) -> ErrorData:
    if isinstance(exc, ValidationError):
        for error in exc.errors(include_url=False):
            if error["type"] == "json_invalid":
                return ErrorData(code=PARSE_ERROR, message=f"Parse error: not valid JSON ({error['msg']})")
        return ErrorData(
            code=INVALID_REQUEST,
            message="Invalid Request: valid JSON, but not a JSON-RPC 2.0 request, notification or response",
        )
    return ErrorData(code=PARSE_ERROR, message=f"Parse error: {exc}")
