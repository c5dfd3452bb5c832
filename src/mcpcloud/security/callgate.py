"""The HTTP face of the tool-call policies: 403 and 429 are decided before the SDK answers.

The pipeline stages can only answer with a JSON-RPC error, and on the legacy SSE path the
SDK has already sent `200 OK` by then. So for `tools/call` this gate runs the same compiled
policies (authorization, rate limits, concurrency) in front of the SDK and answers refusals
with the HTTP status and headers clients and proxies understand (`WWW-Authenticate:
insufficient_scope`, `Retry-After`). It marks what it checked in the ASGI scope, and the
stages skip exactly that tool call, so nothing is counted twice.

The method and tool come from the `Mcp-Method` / `Mcp-Name` headers on the 2026-07-28 era
(the SDK rejects a request whose headers disagree with its body), else from the body, which
is then replayed to the SDK unchanged.
"""

from __future__ import annotations

import json
from typing import Any

from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcpcloud.http_errors import json_rpc_error_response
from mcpcloud.observability.mcp_metrics import bind_series
from mcpcloud.pipeline.calls import GATED_KEY, TOOLS_CALL
from mcpcloud.pipeline.metrics import UNKNOWN_TOOL
from mcpcloud.pipeline.policies import Policies
from mcpcloud.pipeline.refusal import Refusal
from mcpcloud.security.metadata import challenge
from mcpcloud.security.principal import PRINCIPAL_KEY, Principal


class CallGate:
    def __init__(self, app: ASGIApp, policies: Policies, max_body_bytes: int,
                 resource_metadata: str | None = None) -> None:
        self.app = app
        self.policies = policies
        self.max_body_bytes = max_body_bytes
        self.resource_metadata = resource_metadata

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        body: bytes | None = None
        method = tool = None
        version = headers.get("mcp-protocol-version")
        if version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS:
            # 2026-07-28 era: the SDK refuses a request whose routing headers disagree with its body.
            method, tool = headers.get("mcp-method"), headers.get("mcp-name")
        if method is None:
            body, complete = await _read_body(receive, self.max_body_bytes)
            receive = _replay(body, receive, more=not complete)
            if not complete:  # too large: the SDK answers 413
                await self.app(scope, receive, send)
                return
            message = _message(body)
            method, tool = message.get("method"), _name(message)
        if method != TOOLS_CALL or not isinstance(tool, str):
            await self.app(scope, receive, send)
            return

        principal: Principal = scope.get(PRINCIPAL_KEY) or self.policies.principal_of.http_default
        refusal = await self._refusal(principal, tool)
        if refusal is not None and refusal.outcome == "invalid":
            # Not a tool mcpcloud knows: not gated, so the pipeline refuses it in its own words.
            await self.app(scope, receive, send)
            return
        if refusal is not None:
            await self._refuse(refusal, principal, tool, body, headers, scope, receive, send)
            return
        cap = self.policies.concurrency
        if cap is None:
            scope[GATED_KEY] = tool
            await self.app(scope, receive, send)
            return
        async with cap.slot(principal) as busy:
            if busy is not None:
                await self._refuse(busy, principal, tool, body, headers, scope, receive, send)
                return
            scope[GATED_KEY] = tool
            await self.app(scope, receive, send)

    async def _refusal(self, principal: Principal, tool: str) -> Refusal | None:
        access = self.policies.access
        if access is not None:
            refusal = access.refusal(principal, tool)
            if refusal is not None:
                return refusal
        budget = self.policies.budget
        return await budget.refusal(principal, tool) if budget is not None else None

    async def _refuse(self, refusal: Refusal, principal: Principal, tool: str, body: bytes | None,
                      headers: Headers, scope: Scope, receive: Receive, send: Send) -> None:
        if body is None:
            body, _ = await _read_body(receive, self.max_body_bytes)
        message = _message(body)
        audit = self.policies.audit
        if audit is not None:
            params = message.get("params")
            audit.record(
                refusal.outcome, principal=principal.audit_fields(), tool=tool,
                arguments=params.get("arguments") if isinstance(params, dict) else None,
                request_id=headers.get("x-request-id", message.get("id")), detail=refusal.message,
            )
        extra: dict[str, str] = {}
        if refusal.retry_after_header is not None:
            extra["Retry-After"] = refusal.retry_after_header
        if refusal.missing_scope is not None:
            extra["WWW-Authenticate"] = challenge(
                self.resource_metadata, [refusal.missing_scope], "insufficient_scope", refusal.message
            )
        # Refused before the MCP pipeline, so its metrics stage never sees this request: count it here.
        label = tool if tool in self.policies.known_tools else UNKNOWN_TOOL
        bind_series(TOOLS_CALL, label).record(refusal.outcome, 0.0)
        request_id = message.get("id")
        response = json_rpc_error_response(
            refusal.status, refusal.message, code=refusal.code, headers=extra,
            request_id=request_id if isinstance(request_id, (str, int)) else None, data=refusal.data(),
        )
        await response(scope, receive, send)


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The request body, and whether it was read completely within `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > limit:
            return b"".join(chunks), False


def _replay(body: bytes, receive: Receive, more: bool = False) -> Receive:
    """A `receive` that yields the already-read body once, then defers to the real one."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return replayed


def _message(body: bytes | None) -> dict[str, Any]:
    try:
        message = json.loads(body) if body else None
    except (ValueError, RecursionError):
        return {}
    return message if isinstance(message, dict) else {}


def _name(message: dict[str, Any]) -> str | None:
    params = message.get("params")
    name = params.get("name") if isinstance(params, dict) else None
    return name if isinstance(name, str) else None
