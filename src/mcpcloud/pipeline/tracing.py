"""Pipeline stages for OpenTelemetry traces, built on the SDK's own server span.

The SDK already puts `OpenTelemetryMiddleware` first in every server's middleware: one
SERVER span per MCP message, named and attributed per the OpenTelemetry MCP semantic
conventions (`mcp.method.name`, `gen_ai.tool.name`, `jsonrpc.request.id`,
`mcp.protocol.version`, `error.type`), parented on a `traceparent` in `_meta`. We keep that
span rather than emit a second one, and add what it lacks:

- `HeaderTraceContext`, placed in front of it: on HTTP, the W3C `traceparent` header becomes
  the parent when `_meta` carries none (`_meta` wins: it is the 2026-07-28 way and is per
  message);
- `SpanAttributes`: transport, client, session, resource and principal attributes, and
  our outcome, on that span;
- `ToolSpan`, the innermost stage: an INTERNAL `execute_tool <name>` child span around the
  tool's own work, so the time policies take shows as the gap between the two.

Tracing off: the SDK's middleware is removed and none of these stages is installed, so a
request does no span work at all (not even a no-op span).
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract

from mcpcloud.core.calls import target_of, tool_name
from mcpcloud.core.outcomes import TOOL_ERROR, outcome_of_exception, outcome_of_result
from mcpcloud.core.principal import Identity
from mcpcloud.observability.request_identity import request_id_of

_tracer = trace.get_tracer("mcpcloud")


class HeaderTraceContext:
    """Make the HTTP `traceparent`/`tracestate` headers the ambient trace context."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        request = ctx.request
        if request is None or "traceparent" not in request.headers:
            return await call_next(ctx)
        parent = extract(request.headers)
        if not trace.get_current_span(parent).get_span_context().is_valid:
            return await call_next(ctx)
        token = otel_context.attach(parent)
        try:
            return await call_next(ctx)
        finally:
            otel_context.detach(token)


class SpanAttributes:
    """Complete the SDK's server span with what only the server knows."""

    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        span = trace.get_current_span()
        if not span.is_recording():
            return await call_next(ctx)
        span.set_attributes(request_attributes(ctx, self.identity.of_request(ctx.request).id))
        try:
            result = await call_next(ctx)
        except Exception as exc:
            span.set_attribute("mcpcloud.outcome", outcome_of_exception(exc))
            raise
        span.set_attribute("mcpcloud.outcome", outcome_of_result(result))
        return result


def request_attributes(ctx: ServerRequestContext[Any, Any], principal_id: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {"enduser.id": principal_id}
    target = target_of(ctx.method, ctx.params)
    if target is not None and target[0] == "resource":
        attributes["mcp.resource.uri"] = target[1]
    request = ctx.request
    if request is None:
        attributes["network.transport"] = "pipe"
        return attributes
    scope = request.scope
    attributes["network.transport"] = "tcp"
    attributes["network.protocol.name"] = "http"
    attributes["network.protocol.version"] = scope.get("http_version", "1.1")
    client = scope.get("client")
    if client:
        attributes["client.address"], attributes["client.port"] = client[0], client[1]
    server = scope.get("server")
    if server:
        attributes["server.address"], attributes["server.port"] = server[0], server[1] or 0
    session_id = request.headers.get("mcp-session-id")
    if session_id:
        attributes["mcp.session.id"] = session_id
    request_id = request_id_of(ctx)
    if request_id:
        attributes["http.request.header.x-request-id"] = (request_id,)
    return attributes


class ToolSpan:
    """An `execute_tool <name>` INTERNAL child span around the tool itself."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        name = tool_name(ctx.method, ctx.params)
        if name is None or not trace.get_current_span().is_recording():
            return await call_next(ctx)
        tool = name
        with _tracer.start_as_current_span(
            f"execute_tool {tool}",
            kind=trace.SpanKind.INTERNAL,
            attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": tool},
        ) as span:
            result = await call_next(ctx)
            if outcome_of_result(result) == TOOL_ERROR:
                span.set_attribute("error.type", TOOL_ERROR)
                span.set_status(trace.StatusCode.ERROR)
            return result
