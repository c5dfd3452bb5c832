"""Instructions per request through the whole ASGI app, in process: the load-independent figure.

Builds mcpcloud's ASGI app from the settings in the environment (as `mcpcloud serve` does),
runs its lifespan, and sends `--requests` stateless 2026-07-28 `tools/call echo` requests
straight to it (no socket, no uvicorn), checking every answer. Under callgrind the difference
between two request counts, divided by their difference, is the app's cost per request, which
does not depend on what else the machine runs:

    for n in 1000 3000; do PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$n \\
        .venv/bin/python bench/instructions.py --requests $n; done
    python bench/instructions.py --summarize /tmp/cg.1000 /tmp/cg.3000

`MCPCLOUD_HTTP__FAST_PATH=false` measures the SDK path; bench/production.py's settings
(`--production`) the full production pipeline (API key, Redis rate limit, metrics, audit file).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scenarios import MESSAGE, MODERN_VERSION  # noqa: E402

BODY_TEMPLATE = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "tools/call",
        "params": {
            "name": "echo",
            "arguments": {"message": MESSAGE},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
                "io.modelcontextprotocol/clientInfo": {"name": "mcpcloud-bench", "version": "1"},
                "io.modelcontextprotocol/clientCapabilities": {},
            },
        },
    },
    ensure_ascii=False,
).encode()


def scope(headers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/mcp",
        "raw_path": b"/mcp",
        "query_string": b"",
        "root_path": "",
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }


async def drive(requests: int, headers: dict[str, str]) -> None:
    from mcpcloud.config import Settings
    from mcpcloud.http import build_app
    from mcpcloud.observability.logging import configure_logging
    from mcpcloud.server import build

    settings = Settings()
    configure_logging(settings.log)  # as `mcpcloud serve` does: the access log is part of the cost
    app = build_app(build(settings))
    base = {
        "Host": "127.0.0.1:8000",
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "MCP-Protocol-Version": MODERN_VERSION,
        "Mcp-Method": "tools/call",
        "Mcp-Name": "echo",
        **headers,
    }
    request_scope = scope({**base, "Content-Length": str(len(BODY_TEMPLATE))})
    startup: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await startup.put({"type": "lifespan.startup"})
    done = asyncio.Event()
    lifespan = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, startup.get, _lifespan_send(done))
    )
    await done.wait()
    try:
        for _ in range(requests):
            await _one(app, request_scope)
    finally:
        await startup.put({"type": "lifespan.shutdown"})
        await lifespan


def _lifespan_send(done: asyncio.Event) -> Any:
    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "lifespan.startup.complete":
            done.set()
        elif message["type"].endswith("failed"):
            raise RuntimeError(message)

    return send


async def _one(app: Any, request_scope: dict[str, Any]) -> None:
    sent = False
    chunks: list[bytes] = []
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": BODY_TEMPLATE, "more_body": False}
        await asyncio.Event().wait()  # a client that keeps the connection open
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            chunks.append(message.get("body", b""))

    await app(dict(request_scope), receive, send)
    body = b"".join(chunks)
    payload = body.split(b"data: ", 1)[1] if body.startswith(b"event") else body
    try:
        text = json.loads(payload)["result"]["content"][0]["text"]
    except (ValueError, KeyError, IndexError, TypeError):
        text = None
    if status != 200 or text != MESSAGE:
        raise RuntimeError(f"wrong answer: HTTP {status} {body[:300]!r}")


def summarize(low: Path, high: Path) -> dict[str, Any]:
    def total(path: Path) -> tuple[int, int]:
        text = path.read_text(errors="replace")
        events = int(re.search(r"^summary:\s+(\d+)", text, re.M).group(1))  # type: ignore[union-attr]
        n = int(re.search(r"instructions\.py --requests (\d+)", text).group(1))  # type: ignore[union-attr]
        return n, events

    (n1, i1), (n2, i2) = total(low), total(high)
    return {"requests": [n1, n2], "instructions": [i1, i2], "per_request": round((i2 - i1) / (n2 - n1))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--production", action="store_true", help="bench/production.py's settings")
    parser.add_argument("--summarize", nargs=2, type=Path, metavar=("LOW", "HIGH"))
    args = parser.parse_args()
    if args.summarize:
        print(json.dumps(summarize(*args.summarize)))
        return
    headers: dict[str, str] = {}
    if args.production:
        from production import production_env

        env, headers = production_env(Path(tempfile.mkdtemp(prefix="mcpcloud-instructions-")))
        os.environ.update(env)
    os.environ.setdefault("MCPCLOUD_LOG__FORMAT", "json")
    asyncio.run(drive(args.requests, headers))


if __name__ == "__main__":
    main()
