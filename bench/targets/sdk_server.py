"""The SDK alone: a plain `MCPServer` with one `echo` tool, served by its own `streamable_http_app()`.

No mcpcloud code at all; the same uvicorn settings as `mcpcloud serve`. Both protocol eras
are served on /mcp, as the SDK does by default (stateful for the legacy era).

    python bench/targets/sdk_server.py --port 8002 [--async-tool] [--json-response]
    python bench/targets/sdk_server.py --stdio

The two switches are what-if variants for "Where the time goes" in bench/README.md:
`--async-tool` registers `echo` as `async def` (the SDK runs a plain `def` tool in a worker
thread), `--json-response` answers 2026-07-28 requests inline instead of through the
SSE-capable task group.
"""

from __future__ import annotations

import argparse

import uvicorn
from mcp.server import MCPServer


def build(async_tool: bool) -> MCPServer:
    server = MCPServer("sdk-bench")
    if async_tool:

        @server.tool()
        async def echo(message: str) -> str:
            """Return the message unchanged."""
            return message

    else:

        @server.tool()
        def echo(message: str) -> str:  # noqa: F811 - one of the two is registered
            """Return the message unchanged."""
            return message

    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    parser.add_argument("--stdio", action="store_true", help="serve stdio instead (the cold-start figure)")
    parser.add_argument("--async-tool", action="store_true", help="register echo as `async def`")
    parser.add_argument("--json-response", action="store_true", help="streamable_http_app(json_response=True)")
    args = parser.parse_args()
    if args.stdio:
        build(args.async_tool).run("stdio")
        return
    if args.port is None:
        parser.error("--port is required unless --stdio")
    app = build(args.async_tool).streamable_http_app(host=args.host, json_response=args.json_response)
    uvicorn.run(
        app, host=args.host, port=args.port, log_config=None, access_log=False, lifespan="on", server_header=False
    )


if __name__ == "__main__":
    main()
