"""OpenTelemetry setup for the process: tracer provider, exporter, client instrumentation.

Off by default. When on, the exporter is configured the standard way: OTLP/HTTP reads
`OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`, `..._HEADERS`, `..._TIMEOUT`; the batch processor
`OTEL_BSP_*`; the sampler `OTEL_TRACES_SAMPLER[_ARG]`; the resource `OTEL_SERVICE_NAME`
and `OTEL_RESOURCE_ATTRIBUTES`. `OTEL_SDK_DISABLED=true` turns tracing off whatever the
configuration says.

The OpenTelemetry SDK (provider, processors, exporters) is imported only when tracing is on,
so a stdio server that does not trace never loads it (the API comes with the MCP SDK anyway).
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING

from mcpcloud import __version__
from mcpcloud.config import TracingSettings
from mcpcloud.observability.logging import get_logger

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

# Outbound calls get child spans when their client library is installed: (module, instrumentor).
CLIENT_INSTRUMENTATIONS = (
    ("opentelemetry.instrumentation.httpx", "HTTPXClientInstrumentor"),
    ("opentelemetry.instrumentation.redis", "RedisInstrumentor"),
    ("opentelemetry.instrumentation.psycopg", "PsycopgInstrumentor"),
)


def tracing_enabled(settings: TracingSettings) -> bool:
    return settings.enabled and os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() != "true"


def configure_tracing(settings: TracingSettings) -> TracerProvider | None:
    """Install the global tracer provider when tracing is on; returns it (None when off)."""
    if not tracing_enabled(settings):
        return None
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=_resource())
    provider.add_span_processor(BatchSpanProcessor(_exporter(settings)))
    trace.set_tracer_provider(provider)
    instrument_clients()
    return provider


def _resource() -> Resource:
    from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource

    defaults: dict[str, str] = {SERVICE_VERSION: __version__}
    named = os.environ.get("OTEL_SERVICE_NAME") or "service.name=" in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "")
    if not named:
        defaults[SERVICE_NAME] = "mcpcloud"
    return Resource.create(defaults)


def _exporter(settings: TracingSettings) -> SpanExporter:
    if settings.exporter == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def instrument_clients() -> list[str]:
    """Instrument every supported client library that is installed; returns their names."""
    done = []
    for module_name, class_name in CLIENT_INSTRUMENTATIONS:
        try:
            instrumentor = getattr(importlib.import_module(module_name), class_name)()
        except ImportError:
            continue
        if instrumentor.is_instrumented_by_opentelemetry:
            done.append(module_name)
            continue
        # instrument() itself skips (and logs) a library that is not installed.
        instrumentor.instrument()
        if instrumentor.is_instrumented_by_opentelemetry:
            done.append(module_name)
    get_logger(__name__).debug("tracing client instrumentation", instrumented=done)
    return done
