"""Run a wire-format test server (an ASGI app) on a free loopback port in a background thread."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import uvicorn
from starlette.types import ASGIApp

W = TypeVar("W")


@contextmanager
def serve_in_thread(app: ASGIApp) -> Iterator[str]:
    """Yields the server's base URL (http://127.0.0.1:PORT); stops it on exit."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextmanager
def serve_wire(wire: W, make_app: Callable[[W], Any]) -> Iterator[W]:
    """Serve `make_app(wire)`; the wire state learns its own base URL (its answers carry it)."""
    with serve_in_thread(make_app(wire)) as base_url:
        wire.base_url = base_url  # type: ignore[attr-defined]
        yield wire
