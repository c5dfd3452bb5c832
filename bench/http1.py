"""A minimal HTTP/1.1 keep-alive client for load generation.

httpx spends tens of microseconds per request in Python; at the rates a bare uvicorn app
reaches on one core that would make the generator, not the server, the limit. This client
writes pre-encoded requests on a plain asyncio transport and parses responses with
httptools (the C parser uvicorn itself uses), so it costs a few microseconds per request.
It supports exactly what the benchmark needs: one request in flight per connection,
Content-Length and chunked responses.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import httptools


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def encode_head(method: str, path: str, host: str, headers: dict[str, str]) -> bytes:
    """Request line and headers, everything but Content-Length, encoded once per connection."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")


def with_body(head: bytes, body: bytes) -> bytes:
    return b"%sContent-Length: %d\r\n\r\n%s" % (head, len(body), body)


def encode_request(method: str, path: str, host: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    return with_body(encode_head(method, path, host, headers), body)


class Http1Connection(asyncio.Protocol):
    """One keep-alive connection; `exchange` sends a request and waits for its response."""

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[Response] | None = None
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._next_request: Callable[[], bytes] | None = None
        self._on_response: Callable[[Response, int], bool] | None = None
        self._sent_at = 0

    @classmethod
    async def open(cls, host: str, port: int) -> Http1Connection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(cls, host, port)
        return protocol

    async def exchange(self, raw_request: bytes) -> Response:
        if self._transport is None or self._transport.is_closing():
            raise ConnectionError("connection is closed")
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(raw_request)
        return await self._waiter

    async def loop(self, next_request: Callable[[], bytes], on_response: Callable[[Response, int], bool]) -> None:
        """Send requests back to back until `on_response(response, elapsed_ns)` returns False."""
        if self._transport is None or self._transport.is_closing():
            raise ConnectionError("connection is closed")
        self._waiter = asyncio.get_running_loop().create_future()
        self._next_request, self._on_response = next_request, on_response
        self._send_next()
        try:
            await self._waiter
        finally:
            self._next_request = self._on_response = None

    def _send_next(self) -> None:
        assert self._transport is not None and self._next_request is not None
        raw = self._next_request()
        self._sent_at = time.perf_counter_ns()
        self._transport.write(raw)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionError(f"unparseable response: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionError(f"connection closed by server{f': {exc}' if exc else ''}"))

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._headers = {}
        self._body = []

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        response = Response(self._parser.get_status_code(), self._headers, b"".join(self._body))
        if self._on_response is not None:
            if self._on_response(response, time.perf_counter_ns() - self._sent_at):
                self._send_next()
                return
            response = None  # the loop is over; the waiter only signals that
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(response)  # type: ignore[arg-type]

    def _fail(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        if self._transport is not None:
            self._transport.close()
