"""The HTTP face of the engine: a call is decided before the SDK answers, so a refusal is a real 4xx/503.

The MCP pipeline can only answer with a JSON-RPC error, and on the legacy SSE path the SDK
has already sent `200 OK` by then. So for every tool, resource and prompt call the front
parses the call once, has the engine decide it once (the same compiled policies stdio runs),
and answers a refusal with the HTTP status and headers clients and proxies understand (403 +
`WWW-Authenticate: insufficient_scope`, 429 / 503 + `Retry-After`), audited and counted. An
admitted call goes on to the SDK carrying its `Decision`, which the pipeline's engine stage runs
(wrappers, the one audit record) without deciding again.

On the 2026-07-28 era the `Mcp-Method` header tells which requests are calls, so other requests
pass without their body being read; a call's body is read once and replayed to the SDK unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from mcpcloud.core.calls import KIND_OF_METHOD, Call
from mcpcloud.core.outcomes import Refusal
from mcpcloud.engine.engine import DECISION_KEY, Engine
from mcpcloud.http_body import read_body, replay
from mcpcloud.http_errors import json_rpc_error_response
from mcpcloud.security.metadata import challenge

RefusalCounter = Callable[[Call, Refusal], None]


class CallFront:
    def __init__(
        self,
        app: ASGIApp,
        engine: Engine,
        max_body_bytes: int,
        resource_metadata: str | None = None,
        count_refusal: RefusalCounter | None = None,
    ) -> None:
        self.app = app
        self.engine = engine
        self.max_body_bytes = max_body_bytes
        self.resource_metadata = resource_metadata
        self.count_refusal = count_refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        version = headers.get("mcp-protocol-version") or ""
        if version and version not in HANDSHAKE_PROTOCOL_VERSIONS and headers.get("mcp-method") not in KIND_OF_METHOD:
            # 2026-07-28: the SDK refuses a request whose Mcp-Method disagrees with its body.
            await self.app(scope, receive, send)
            return
        body, complete = await read_body(receive, self.max_body_bytes)
        receive = replay(body, receive, more=not complete)
        message = _message(body) if complete else {}  # too large: the SDK answers 413
        request_id = message.get("id")
        call = Call.parse(
            message.get("method"),
            message.get("params"),
            self.engine.identity.of_scope(scope),
            version,
            headers.get("x-request-id", request_id),
            headers.get("traceparent"),
        )
        if call is None:
            await self.app(scope, receive, send)
            return
        decision = await self.engine.decide(call)
        if decision.refusal is not None:
            self.engine.settle(decision, decision.refusal.outcome, decision.refusal.message)
            await self._refuse(decision.refusal, call, request_id, scope, receive, send)
            return
        scope[DECISION_KEY] = decision
        try:
            await self.app(scope, receive, send)
        finally:
            self.engine.release(decision)

    async def _refuse(
        self, refusal: Refusal, call: Call, request_id: Any, scope: Scope, receive: Receive, send: Send
    ) -> None:
        extra: dict[str, str] = {}
        if refusal.retry_after_header is not None:
            extra["Retry-After"] = refusal.retry_after_header
        if refusal.missing_scope is not None:
            extra["WWW-Authenticate"] = challenge(
                self.resource_metadata, [refusal.missing_scope], "insufficient_scope", refusal.message
            )
        if self.count_refusal is not None:
            # Refused before the MCP pipeline, so its metrics stage never sees this call: count it here.
            self.count_refusal(call, refusal)
        response = json_rpc_error_response(
            refusal.status,
            refusal.message,
            code=refusal.code,
            headers=extra,
            request_id=request_id if isinstance(request_id, (str, int)) else None,
            data=refusal.data(),
        )
        await response(scope, receive, send)


def _message(body: bytes) -> dict[str, Any]:
    try:
        message = json.loads(body) if body else None
    except (ValueError, RecursionError):
        return {}
    return message if isinstance(message, dict) else {}
