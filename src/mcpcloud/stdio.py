"""Serving over stdio: one client, the process's own standard input and output.

Three things the SDK's stdio loop does not do, added here:
- a line that is not JSON-RPC gets an error reply (id null) instead of silence, including a
  request whose `id` is neither a string nor an integer (the SDK would read it as a notification);
  a request whose arguments hold a lone surrogate gets INVALID_PARAMS naming the argument (the
  SDK's strict parser would only say "Parse error" at a column);
- when stdin closes, requests already read are finished and answered before the process exits
  (a client may write a batch of requests and close its end at once);
- SIGTERM stops reading, finishes in-flight requests within `http.shutdown_grace_seconds` and
  exits 0, as the HTTP server does.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

import anyio
from mcp.server import stdio as sdk_stdio
from mcp.server.stdio import stdio_server
from mcp.shared._context_streams import create_context_streams
from mcp.shared.message import SessionMessage
from mcp_types import INVALID_PARAMS, INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError, JSONRPCRequest
from pydantic import ValidationError

from mcpcloud.engine.unicode import lone_surrogate_escape, unicode_problem
from mcpcloud.server import McpCloud

_INVALID_ID = ErrorData(
    code=INVALID_REQUEST,
    message="Invalid Request: `id` must be a string or an integer (JSON-RPC 2.0); this request was not run",
)


def serve_stdio(server: McpCloud) -> None:
    anyio.run(_serve, server)


class ScreenedStdin:
    """Standard input as the SDK's stdio loop reads it, minus requests whose `id` has a type JSON-RPC forbids.

    Those are answered here (-32600, id null), because once parsed the SDK cannot tell them from a
    notification. Stdin is claimed exactly as `stdio_server` claims it (fd 0 then reads EOF for
    children), through the SDK's own helper.
    """

    def __init__(self) -> None:
        buffer, self.release = sdk_stdio._claim_fd(0, sys.stdin, "rb", sdk_stdio._open_stdin_diversion)
        self.lines = anyio.wrap_file(sdk_stdio._UnownedTextWrapper(buffer, encoding="utf-8", errors="replace"))
        self.replies: Any = None
        self.ready = anyio.Event()

    def answer_to(self, write_stream: Any) -> None:
        self.replies = write_stream
        self.ready.set()

    async def __aiter__(self) -> AsyncIterator[str]:
        await self.ready.wait()
        async for line in self.lines:
            refusal = _refusal(line)
            if refusal is not None:
                await self.replies.send(SessionMessage(refusal))
                continue
            yield line


def _refusal(line: str) -> JSONRPCError | None:
    """The answer to a request the SDK would drop or misreport; None for everything else (the common case, unparsed)."""
    suspicious_id = '"id"' in line
    surrogate = lone_surrogate_escape(line)
    if not (suspicious_id or surrogate):
        return None
    try:
        message = json.loads(line)  # Python's parser, unlike the SDK's, reads lone surrogates, so we can name where
    except (ValueError, RecursionError):
        return None  # the SDK answers a parse error
    if not isinstance(message, dict) or "method" not in message or "id" not in message:
        return None
    request_id = message["id"]
    if isinstance(request_id, bool) or not isinstance(request_id, (str, int)):
        return JSONRPCError(jsonrpc="2.0", id=None, error=_INVALID_ID)
    problem = unicode_problem(message.get("params")) if surrogate else None
    if problem is not None:
        return JSONRPCError(jsonrpc="2.0", id=request_id, error=ErrorData(code=INVALID_PARAMS, message=problem))
    return None


class InFlight:
    """Request ids read but not yet answered."""

    def __init__(self) -> None:
        self.pending: set[Any] = set()
        self.idle = anyio.Event()
        self.idle.set()

    def started(self, message: Any) -> None:
        if isinstance(message, JSONRPCRequest):
            self.pending.add(message.id)
            self.idle = anyio.Event() if self.idle.is_set() else self.idle

    def answered(self, message: Any) -> None:
        request_id = getattr(message, "id", None)
        if request_id is not None and not isinstance(message, JSONRPCRequest):
            self.pending.discard(request_id)
            if not self.pending:
                self.idle.set()


async def _serve(server: McpCloud) -> None:
    lowlevel = server.mcp._lowlevel_server  # the SDK exposes no public accessor for the low-level server
    grace = server.settings.http.shutdown_grace_seconds
    stdin = ScreenedStdin()
    in_flight = InFlight()
    try:
        async with stdio_server(stdin=stdin) as (read_stream, write_stream):  # type: ignore[arg-type]
            stdin.answer_to(write_stream)
            to_server, from_client = create_context_streams[SessionMessage | Exception](0)
            to_client, from_server = create_context_streams[SessionMessage](0)

            async with anyio.create_task_group() as tg:
                reading = anyio.CancelScope()
                listening = anyio.CancelScope()

                async def relay_requests() -> None:
                    async with to_server:
                        with reading:
                            async for item in read_stream:
                                if isinstance(item, Exception):
                                    # The SDK drops a line that is not JSON-RPC without a word; JSON-RPC 2.0 says
                                    # the peer gets an error (id null), so a client can tell what went wrong.
                                    error = _describe_bad_line(item)
                                    await write_stream.send(
                                        SessionMessage(JSONRPCError(jsonrpc="2.0", id=None, error=error))
                                    )
                                    continue
                                in_flight.started(item.message)
                                await to_server.send(item)
                        # Input is over (EOF or SIGTERM): answer what was already asked, then let the server end.
                        with anyio.move_on_after(grace):
                            await in_flight.idle.wait()

                async def relay_replies() -> None:
                    async with from_server, write_stream:  # the server is done: let the SDK's writer finish
                        async for item in from_server:
                            await write_stream.send(item)
                            in_flight.answered(item.message)

                async def stop_reading_on_sigterm() -> None:
                    if sys.platform == "win32":
                        return  # no SIGTERM to receive there; stdin closing ends the session
                    with listening, anyio.open_signal_receiver(signal.SIGTERM) as signals:
                        async for _ in signals:
                            reading.cancel()
                            return

                tg.start_soon(relay_requests)
                tg.start_soon(relay_replies)
                tg.start_soon(stop_reading_on_sigterm)
                await lowlevel.run(from_client, to_client, lowlevel.create_initialization_options())
                listening.cancel()  # the relays end with the server, after the last reply is written
    finally:
        if stdin.release is not None:
            stdin.release()


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
