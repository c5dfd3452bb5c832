"""The SDK alone: a plain `MCPServer` with one `echo` tool, served by its own `streamable_http_app()`.

No mcpcloud code at all; the same uvicorn settings as `mcpcloud serve`. Both protocol eras
are served on /mcp, as the SDK does by default (stateful for the legacy era).

    python bench/targets/sdk_server.py --port 8002
"""

from __future__ import annotations

import argparse

import uvicorn
from mcp.server import MCPServer

server = MCPServer("sdk-bench")


@server.tool()
def echo(message: str) -> str:
    """Return the message unchanged."""
    return message


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = server.streamable_http_app(host=args.host)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False, lifespan="on",
                server_header=False)


if __name__ == "__main__":
    main()
