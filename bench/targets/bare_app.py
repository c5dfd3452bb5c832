"""The ceiling: a bare ASGI app on uvicorn that answers every POST with a fixed echo result.

It reads the request body (as any real endpoint must) and sends a pre-encoded JSON-RPC
response shaped like mcpcloud's, so the benchmark measures uvicorn + the client and nothing else.

    python bench/targets/bare_app.py --port 8001
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scenarios import MESSAGE  # noqa: E402

BODY = json.dumps(
    {"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": MESSAGE}], "isError": False}},
    separators=(",", ":"),
    ensure_ascii=False,
).encode()
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())],
}
BODY_MESSAGE = {"type": "http.response.body", "body": BODY}


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    more_body = True
    while more_body:
        message = await receive()
        more_body = message.get("more_body", False)
    await send(START)
    await send(BODY_MESSAGE)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # Same uvicorn settings as `mcpcloud serve` (mcpcloud.http.serve_http): uvloop, httptools, no access log.
    uvicorn.run(
        app, host=args.host, port=args.port, log_config=None, access_log=False, lifespan="off", server_header=False
    )


if __name__ == "__main__":
    main()
