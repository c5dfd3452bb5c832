"""Talk to a running mcpcloud container the way a client would: probes, then a real tools/call.

Usage: python deploy/scripts/image_probe.py http://127.0.0.1:PORT [--wait SECONDS] [--api-key-file FILE]
Exit status 0 when /healthz and /readyz answer 200 and `echo` round-trips through the SDK client.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
import uuid

import anyio
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def wait_until_alive(base: str, wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            status, body = get(f"{base}/healthz")
            if status == 200:
                print(f"/healthz 200 {body}")
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            sys.exit(f"image_probe: {base}/healthz did not answer 200 within {wait_seconds:.0f}s")
        time.sleep(0.2)


async def call_echo(base: str, api_key: str | None) -> None:
    message = f"through the container {uuid.uuid4()}"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    transport = streamable_http_client(f"{base}/mcp", http_client=create_mcp_http_client(headers=headers))
    async with Client(transport) as client:
        result = await client.call_tool("echo", {"message": message})
    text = result.content[0].text if result.content else None
    if result.is_error or text != message:
        sys.exit(f"image_probe: tools/call echo returned {result!r}, expected {message!r}")
    print(f"tools/call echo -> {text!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("base_url")
    parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for /healthz")
    parser.add_argument("--api-key-file", help="file holding the API key to call /mcp with")
    options = parser.parse_args()
    base = options.base_url.rstrip("/")
    wait_until_alive(base, options.wait)
    status, body = get(f"{base}/readyz")
    if status != 200:
        sys.exit(f"image_probe: /readyz answered {status} {body}")
    print(f"/readyz 200 {body}")
    api_key = None
    if options.api_key_file:
        with open(options.api_key_file, encoding="utf-8") as handle:
            api_key = handle.read().strip()
    anyio.run(call_echo, base, api_key)


if __name__ == "__main__":
    main()
