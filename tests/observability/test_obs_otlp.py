"""A real mcpcloud process exports its spans over OTLP/HTTP to a receiver run by the test."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from obs_helpers import modern_tool_call
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

EXPORT_DEADLINE_SECONDS = 20.0


class Receiver:
    """The OTLP/HTTP trace endpoint of a collector: decodes each protobuf export request."""

    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        self.paths: list[str] = []
        self.content_types: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                receiver.paths.append(self.path)
                receiver.content_types.append(self.headers.get("Content-Type", ""))
                receiver.requests.append(ExportTraceServiceRequest.FromString(body))
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.http.server_address[1]}"

    def spans(self) -> list[tuple[dict[str, object], object]]:
        """(resource attributes, span) for every span received so far."""
        found = []
        for request in list(self.requests):
            for resource_spans in request.resource_spans:
                resource = {kv.key: kv.value.string_value for kv in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    found.extend((resource, span) for span in scope_spans.spans)
        return found


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.http.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.http.shutdown()
    receiver.http.server_close()


def attributes(span) -> dict[str, object]:
    out = {}
    for kv in span.attributes:
        value = kv.value
        out[kv.key] = value.string_value or value.int_value or value.bool_value
    return out


def test_spans_reach_an_otlp_receiver_and_logs_name_the_trace(server_factory, receiver: Receiver) -> None:
    server = server_factory(
        {
            "MCPCLOUD_OBSERVABILITY__TRACING__ENABLED": "true",
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "50",
            "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test",
        }
    )
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    response = modern_tool_call(
        server.url,
        "get_time",
        {"timezone": "Nowhere/Land"},
        request_id=7,
        headers={"traceparent": f"00-{trace_id}-b7ad6b7169203331-01", "x-request-id": "req-otlp-1"},
    )
    assert response.status_code == 200 and response.json()["result"]["isError"] is True

    deadline = time.monotonic() + EXPORT_DEADLINE_SECONDS
    while time.monotonic() < deadline and not any(s.name == "tools/call get_time" for _, s in receiver.spans()):
        time.sleep(0.05)
    by_name = {span.name: (resource, span) for resource, span in receiver.spans()}
    assert "tools/call get_time" in by_name, f"received: {sorted(by_name)}"
    resource, span = by_name["tools/call get_time"]
    assert resource["service.name"] == "mcpcloud"
    assert resource["deployment.environment"] == "test"
    assert span.trace_id.hex() == trace_id
    assert span.parent_span_id.hex() == "b7ad6b7169203331"
    assert span.kind == span.SPAN_KIND_SERVER
    found = attributes(span)
    assert found["mcp.method.name"] == "tools/call" and found["gen_ai.tool.name"] == "get_time"
    assert found["jsonrpc.request.id"] == "7" and found["error.type"] == "tool_error"
    _, tool_span = by_name["execute_tool get_time"]
    assert tool_span.parent_span_id == span.span_id
    assert receiver.paths[0] == "/v1/traces" and receiver.content_types[0] == "application/x-protobuf"

    # The tool's failure was logged inside the request: the line names request, trace, span, tool, caller.
    lines = [json.loads(line) for line in server.log_lines() if line.startswith("{")]
    [failure] = [line for line in lines if "get_time" in line.get("event", "") and "failed" in line["event"]]
    assert failure["trace_id"] == trace_id
    assert failure["span_id"] in {span.span_id.hex(), tool_span.span_id.hex()}
    assert failure["request_id"] == "req-otlp-1"
    assert failure["tool"] == "get_time" and failure["principal"] == "anonymous" and failure["jsonrpc_id"] == 7
    [access] = [line for line in lines if line.get("logger") == "mcpcloud.access" and line["path"] == "/mcp"]
    assert access["request_id"] == "req-otlp-1" and access["status"] == 200
    assert server.stop() == 0
