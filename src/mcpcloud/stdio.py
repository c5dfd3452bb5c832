"""Serving over stdio: one client, the process's own standard input and output."""

from __future__ import annotations

import anyio

from mcpcloud.server import McpCloud


def serve_stdio(server: McpCloud) -> None:
    anyio.run(server.mcp.run_stdio_async)
