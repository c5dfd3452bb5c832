"""Traces with the in-memory exporter: the server span, its parent, its attributes, the tool span."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server._otel import OpenTelemetryMiddleware
from mcp.shared.exceptions import MCPError
from obs_helpers import free_port, modern_tool_call
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from mcpcloud.config import load_settings
from mcpcloud.http import build_app
from mcpcloud.observability.metrics_endpoint import _ListenerServer
from mcpcloud.observability.tracing import instrument_clients
from mcpcloud.pipeline.tracing import HeaderTraceContext
from mcpcloud.server import McpCloud, build

HEADER_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
HEADER_SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{HEADER_TRACE_ID}-{HEADER_SPAN_ID}-01"


@pytest.fixture(scope="session")
def exporter() -> InMemorySpanExporter:
    """One in-memory exporter on the process's tracer provider (a provider can be set only once)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return memory


@asynccontextmanager
async def serving(server: McpCloud) -> AsyncIterator[str]:
    """The real ASGI app on a free port, in this event loop (so spans land in this process)."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(build_app(server), host="127.0.0.1", port=port, log_config=None, lifespan="on")
    listener = _ListenerServer(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve)
        while not listener.started:
            await anyio.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            listener.should_exit = True


def traced_server(enabled: bool = True) -> McpCloud:
    return build(load_settings(packs="core", observability={"tracing": {"enabled": enabled}}))


def server_spans(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER and s.name == name]


async def test_server_span_follows_the_mcp_conventions_and_takes_the_traceparent_header(exporter) -> None:
    exporter.clear()
    async with serving(traced_server()) as url:
        response = await anyio.to_thread.run_sync(
            lambda: modern_tool_call(
                url, "echo", {"message": "hi"}, request_id=41, headers={"traceparent": TRACEPARENT}
            )
        )
    assert response.status_code == 200 and response.json()["result"]["isError"] is False
    [span] = server_spans(exporter, "tools/call echo")
    assert format(span.context.trace_id, "032x") == HEADER_TRACE_ID
    assert format(span.parent.span_id, "016x") == HEADER_SPAN_ID
    attributes = dict(span.attributes)
    assert attributes["mcp.method.name"] == "tools/call"
    assert attributes["gen_ai.tool.name"] == "echo"
    assert attributes["gen_ai.operation.name"] == "execute_tool"
    assert attributes["jsonrpc.request.id"] == "41"
    assert attributes["mcp.protocol.version"] == "2026-07-28"
    assert attributes["network.transport"] == "tcp" and attributes["network.protocol.name"] == "http"
    assert attributes["client.address"] == "127.0.0.1"
    assert attributes["enduser.id"] == "anonymous"
    assert attributes["mcpcloud.outcome"] == "ok"
    assert attributes["http.request.header.x-request-id"][0] == response.headers["x-request-id"]
    [tool_span] = [s for s in exporter.get_finished_spans() if s.name == "execute_tool echo"]
    assert tool_span.kind == SpanKind.INTERNAL
    assert tool_span.parent.span_id == span.context.span_id


async def test_meta_trace_context_wins_over_the_header(exporter) -> None:
    exporter.clear()
    caller = trace.get_tracer("test-caller")
    async with serving(traced_server()) as url:
        async with httpx2.AsyncClient(headers={"traceparent": TRACEPARENT}) as http:
            async with Client(streamable_http_client(url, http_client=http)) as client:
                with caller.start_as_current_span("caller") as caller_span:
                    result = await client.call_tool("get_time", {"timezone": "Atlantis/Nowhere"})
    assert result.is_error is True
    [span] = server_spans(exporter, "tools/call get_time")
    # The SDK client injected its own send span into `_meta`; that is the parent, not the header.
    assert span.context.trace_id == caller_span.get_span_context().trace_id
    assert format(span.context.trace_id, "032x") != HEADER_TRACE_ID
    [send] = [s for s in exporter.get_finished_spans() if s.name == "MCP send tools/call get_time"]
    assert span.parent.span_id == send.context.span_id
    assert span.attributes["error.type"] == "tool_error"
    assert span.attributes["mcpcloud.outcome"] == "tool_error"
    [tool_span] = [s for s in exporter.get_finished_spans() if s.name == "execute_tool get_time"]
    assert tool_span.attributes["error.type"] == "tool_error"


async def test_protocol_errors_mark_the_span(exporter) -> None:
    exporter.clear()
    server = traced_server()
    async with Client(server.mcp) as client:  # in process: no HTTP, the stdio-like path
        with pytest.raises(MCPError):
            await client.read_resource("file:///not/served")
    [span] = server_spans(exporter, "resources/read")
    assert span.attributes["mcp.resource.uri"] == "file:///not/served"
    assert span.attributes["mcpcloud.outcome"] == "protocol_error"
    assert span.attributes["network.transport"] == "pipe"
    assert span.attributes["enduser.id"] == "local:local"
    assert span.status.status_code == trace.StatusCode.ERROR


async def test_tracing_off_does_no_span_work(exporter) -> None:
    server = traced_server(enabled=False)
    assert not any(isinstance(s, (OpenTelemetryMiddleware, HeaderTraceContext)) for s in server.mcp.middleware)
    exporter.clear()
    async with serving(server) as url:
        response = await anyio.to_thread.run_sync(
            lambda: modern_tool_call(url, "echo", {"message": "hi"}, headers={"traceparent": TRACEPARENT})
        )
    assert response.status_code == 200
    assert [s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER] == []
    assert [s for s in exporter.get_finished_spans() if s.name.startswith("execute_tool")] == []


async def test_outbound_http_calls_get_client_spans(exporter, server_factory) -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    target = server_factory()
    assert "opentelemetry.instrumentation.httpx" in instrument_clients()
    try:
        exporter.clear()
        with trace.get_tracer("test").start_as_current_span("tool work") as parent:
            async with httpx.AsyncClient() as http:
                assert (await http.get(f"{target.base}/healthz")).status_code == 200
    finally:
        HTTPXClientInstrumentor().uninstrument()  # the rest of the test session keeps plain httpx
    [outbound] = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.CLIENT and s.name == "GET"]
    assert outbound.parent.span_id == parent.get_span_context().span_id
    status = outbound.attributes.get("http.response.status_code", outbound.attributes.get("http.status_code"))
    assert status == 200
