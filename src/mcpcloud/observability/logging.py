"""Logging: JSON lines for machines, readable lines on a terminal, always on stderr.

stderr, because on stdio the standard output belongs to the protocol. The SDK's and
uvicorn's loggers go through the same handler.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from typing import Any

import structlog
from opentelemetry import trace

from mcpcloud.config import LogSettings


def add_trace_ids(_: object, __: str, event: structlog.types.EventDict) -> structlog.types.EventDict:
    """Name the current trace and span (when tracing is on) so a log line leads to its trace."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", format(context.trace_id, "032x"))
        event.setdefault("span_id", format(context.span_id, "016x"))
    return event


REQUEST_FIELDS: ContextVar[dict[str, Any] | None] = ContextVar("mcpcloud_request_fields", default=None)
"""Fields naming the request being handled (request id, method, tool, principal), set once per
request: one context variable instead of one per field, because every set and reset costs."""


def add_request_fields(_: object, __: str, event: structlog.types.EventDict) -> structlog.types.EventDict:
    fields = REQUEST_FIELDS.get()
    if fields:
        for key, value in fields.items():
            event.setdefault(key, value)
    return event


_SHARED_PROCESSORS: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    add_request_fields,
    add_trace_ids,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


class _ReusedEncoder:
    """`json.dumps` with options builds a new `JSONEncoder` for every line; this builds it once (same bytes).

    A renderer passes the same options on every call, so the first call's options hold for all.
    """

    def __init__(self) -> None:
        self._encode: Any = None

    def __call__(self, obj: Any, **options: Any) -> str:
        if self._encode is None:
            self._encode = json.JSONEncoder(**options).encode
        return self._encode(obj)


def _skip_record_fields_no_renderer_prints() -> None:
    """Stop stdlib logging from computing, for every record, fields that no handler here prints.

    The caller's file and line (a walk up the stack), the thread, the process id and the
    multiprocessing process name: our renderers and the audit formatter (`%(message)s`) use none
    of them, and on the HTTP hot path they were a fifth of an access-log line.
    """
    logging._srcfile = None  # documented in logging/__init__.py: None means findCaller() is not called
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def configure_logging(settings: LogSettings) -> None:
    use_json = settings.format == "json" or (settings.format == "auto" and not sys.stderr.isatty())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(serializer=_ReusedEncoder())
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    _skip_record_fields_no_renderer_prints()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED_PROCESSORS,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "mcp"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    structlog.configure(
        processors=[*_SHARED_PROCESSORS, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
