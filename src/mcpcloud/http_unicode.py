"""Name the argument when a handshake-era (legacy) POST carries a lone surrogate.

The SDK parses legacy bodies with a strict JSON parser that rejects a lone `\\ud800` escape as
"Parse error ... at column N", which tells a client nothing about which argument is wrong. The
2026-07-28 path and stdio name the argument (pipeline/unicode.py, stdio.py); this wrapper makes
the legacy path say the same: when the SDK answers a parse error and the body holds a surrogate
escape, the answer becomes INVALID_PARAMS naming the argument.
"""

from __future__ import annotations

import json
from typing import Any

from mcp_types import INVALID_PARAMS
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcpcloud.http_errors import json_rpc_error_response
from mcpcloud.pipeline.unicode import lone_surrogate_escape, unicode_problem


class NameInvalidUnicode:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        version = Headers(scope=scope).get("mcp-protocol-version") if scope["type"] == "http" else None
        legacy = (
            scope["type"] == "http" and scope["method"] == "POST" and version in (None, *HANDSHAKE_PROTOCOL_VERSIONS)
        )
        if not legacy:
            await self.app(scope, receive, send)
            return
        body = bytearray()
        held: Message | None = None

        async def watching_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
            return message

        async def naming_send(message: Message) -> None:
            nonlocal held
            if (
                message["type"] == "http.response.start"
                and message["status"] == 400
                and lone_surrogate_escape(bytes(body))
            ):
                held = message  # a parse error, most likely: decide once its body is known
                return
            if held is not None and message["type"] == "http.response.body":
                start, held = held, None
                named = _named(bytes(body))
                if named is not None:
                    problem, request_id = named
                    await json_rpc_error_response(400, problem, code=INVALID_PARAMS, request_id=request_id)(
                        scope, receive, send
                    )
                    return
                await send(start)
            await send(message)

        await self.app(scope, watching_receive, naming_send)


def _named(body: bytes) -> tuple[str, Any] | None:
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict):
        return None
    problem = unicode_problem(message.get("params"))
    request_id = message.get("id")
    if problem is None:
        return None
    return problem, request_id if isinstance(request_id, (str, int)) and not isinstance(request_id, bool) else None
