"""Shared state that cannot answer becomes HTTP 503 + Retry-After, never a bare 500.

One pure-ASGI wrapper around the MCP endpoint: whichever layer below needed Redis and raised
`StateUnavailable` (API key lookup, rate limit, session record, bus), the caller gets a JSON-RPC
error in the engine's vocabulary (outcome `unavailable`, code -32053, `data.cause`,
`data.retryAfterSeconds`, plus `data.feature`), and the refusal is audited. Authentication and
the engine answer the faults they meet themselves, in the same shape; this catches the rest
(session records, the bus). Counting happens where the fault is raised (`state.redis.answering`). If the response had already started
(an SSE stream), nothing can be changed on the wire; the fault is still counted and logged.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcpcloud.core.outcomes import UNAVAILABLE, unavailable
from mcpcloud.core.principal import PRINCIPAL_KEY
from mcpcloud.http_errors import json_rpc_error_response
from mcpcloud.observability.audit import AuditLog
from mcpcloud.state.errors import StateUnavailable

logger = logging.getLogger(__name__)

_PEEK_BYTES = 64 * 1024  # enough of a body to find its JSON-RPC id


class StateFaultResponder:
    def __init__(self, app: ASGIApp, audit: AuditLog | None) -> None:
        self.app = app
        self.audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        seen: list[bytes] = []
        seen_bytes = 0
        body_done = False

        async def watching_receive() -> Message:
            nonlocal seen_bytes, body_done
            message = await receive()
            if message["type"] != "http.request":
                body_done = True
            elif seen_bytes < _PEEK_BYTES:
                chunk = message.get("body", b"")
                seen.append(chunk)
                seen_bytes += len(chunk)
                body_done = not message.get("more_body", False)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, watching_receive, watching_send)
        except Exception as raised:
            exc = _state_fault(raised)
            if exc is None:
                raise
            while not body_done and seen_bytes < _PEEK_BYTES:  # refused before the body was read (authentication)
                await watching_receive()
            request_id = _request_id(b"".join(seen))
            self._record(exc, scope, request_id)
            if started:
                logger.warning("%s after the response started; the client sees the stream end", exc)
                return
            refusal = unavailable(f"{exc}; retry after {exc.retry_after} s", exc.cause, exc.retry_after)
            response = json_rpc_error_response(
                refusal.status,
                refusal.message,
                code=refusal.code,
                headers={"Retry-After": refusal.retry_after_header or "5"},
                request_id=request_id,
                data={**(refusal.data() or {}), "feature": exc.what},
            )
            await response(scope, receive, send)

    def _record(self, exc: StateUnavailable, scope: Scope, request_id: str | int | None) -> None:
        # Counted where it was raised (state.redis.answering); here it is logged and audited.
        logger.warning("refused with 503: %s", exc)
        if self.audit is not None:
            principal = scope.get(PRINCIPAL_KEY)
            self.audit.record(
                UNAVAILABLE,
                principal=principal.audit_fields() if principal is not None else None,
                request_id=Headers(scope=scope).get("x-request-id", request_id),
                detail=str(exc),
            )


def _state_fault(exc: BaseException) -> StateUnavailable | None:
    """The StateUnavailable in `exc`, also when a task group wrapped it in an ExceptionGroup."""
    if isinstance(exc, StateUnavailable):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _state_fault(inner)
            if found is not None:
                return found
    return None


def _request_id(body: bytes) -> str | int | None:
    try:
        message: Any = json.loads(body) if body else None
    except (ValueError, RecursionError):
        return None
    value = message.get("id") if isinstance(message, dict) else None
    return value if isinstance(value, (str, int)) and not isinstance(value, bool) else None
