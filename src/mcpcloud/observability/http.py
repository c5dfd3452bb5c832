"""HTTP-only observability: request ids, the access log, metrics of non-MCP routes, /metrics.

The MCP endpoint's own metrics come from the MCP pipeline (per method and tool, same on
stdio); here it gets a request id and an access-log line only.
"""

from __future__ import annotations

import re
import uuid
from time import perf_counter
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcpcloud.observability import metrics
from mcpcloud.observability.logging import REQUEST_FIELDS, get_logger

REQUEST_ID_HEADER = b"x-request-id"
# A caller's id is kept only if it is short and plain, so it cannot forge log fields.
_ACCEPTABLE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")
KNOWN_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
PROBE_ROUTES = KNOWN_ROUTES
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

_access = get_logger("mcpcloud.access")


class HttpObservability:
    """Outermost ASGI middleware: request id in and out, access log, HTTP route metrics."""

    def __init__(self, app: ASGIApp, *, mcp_path: str, access_log: bool = True, metrics_enabled: bool = True) -> None:
        self.app = app
        self.mcp_path = mcp_path
        self.access_log = access_log
        self.metrics_enabled = metrics_enabled
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        header = (REQUEST_ID_HEADER, request_id.encode())
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        path = scope["path"]
        counted = self.metrics_enabled and path not in PROBE_ROUTES
        if counted:
            metrics.HTTP_IN_FLIGHT.inc()
        token = REQUEST_FIELDS.set({"request_id": request_id})
        started = perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = perf_counter() - started
            if counted:
                metrics.HTTP_IN_FLIGHT.dec()
            if self.metrics_enabled and path != self.mcp_path:
                self._record(path, scope["method"], status, seconds)
            if self.access_log:
                self._log(scope, status, seconds)
            REQUEST_FIELDS.reset(token)

    def _record(self, path: str, method: str, status: int, seconds: float) -> None:
        route = path if path in KNOWN_ROUTES else "other"
        key = (route, method if method in HTTP_METHODS else "OTHER", status)
        series = self._series.get(key)
        if series is None:
            series = (metrics.HTTP_REQUESTS.labels(key[0], key[1], str(status)), metrics.HTTP_DURATION.labels(*key[:2]))
            self._series[key] = series
        series[0].inc()
        series[1].observe(seconds)

    def _log(self, scope: Scope, status: int, seconds: float) -> None:
        path = scope["path"]
        client = scope.get("client")
        log = _access.debug if path in PROBE_ROUTES and status < 500 else _access.info
        log(
            "http request",
            method=scope["method"],
            path=path,
            status=status,
            duration_ms=round(seconds * 1000, 3),
            client=f"{client[0]}:{client[1]}" if client else None,
        )


def incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            return value.decode("ascii") if _ACCEPTABLE_REQUEST_ID.fullmatch(value) else None
    return None
