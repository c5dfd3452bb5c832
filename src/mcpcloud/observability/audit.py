"""The audit log: one JSON line per tool/resource/prompt call and per refused request, to stderr or a file.

Records carry who (principal, never a credential), what (`tool`, `resource` or `prompt`, a
digest of the arguments; the arguments themselves only for tools that opt in, with
secret-looking fields redacted), the outcome, the duration and the request/trace ids.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

from mcpcloud.config import AuditSettings
from mcpcloud.core.calls import Call

REDACTED = "**********"
_SECRET_FIELD = re.compile(
    r"pass(word)?|secret|token|api[_-]?key|^key$|credential|authorization|cookie|private", re.IGNORECASE
)


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (REDACTED if _SECRET_FIELD.search(str(k)) else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


# Built once: `json.dumps` with options builds a new encoder per call (same bytes either way).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode
_RECORD = json.JSONEncoder(ensure_ascii=False, default=str).encode


def digest(arguments: Any) -> str:
    return "sha256:" + hashlib.sha256(_CANONICAL(arguments).encode()).hexdigest()


class AuditLog:
    def __init__(self, settings: AuditSettings) -> None:
        self.raw_tools = frozenset(settings.raw_arguments_tools)
        self.logger = logging.getLogger("mcpcloud.audit")
        self.logger.propagate = False  # audit lines are their own stream, never mixed into app logs
        self.logger.setLevel(logging.INFO)
        handler: logging.Handler
        if settings.sink == "file":
            Path(settings.file).parent.mkdir(parents=True, exist_ok=True)
            handler = RotatingFileHandler(settings.file, maxBytes=settings.max_bytes, backupCount=settings.backups)
        else:
            handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        for old in self.logger.handlers:
            old.close()
        self.logger.handlers[:] = [handler]

    def record_call(
        self, call: Call, outcome: str, *, duration_ms: float | None = None, detail: str | None = None
    ) -> None:
        """The record of one decided call: what the engine settles, whichever face saw the call."""
        self.record(
            outcome,
            principal=call.principal.audit_fields(),
            kind=call.kind,
            name=call.name,
            arguments=call.arguments,
            duration_ms=duration_ms,
            request_id=call.request_id,
            trace_id=call.trace_id,
            detail=detail,
        )

    def record(
        self,
        outcome: str,
        *,
        principal: dict[str, str] | None,
        kind: str = "tool",
        name: str | None = None,
        arguments: Any = None,
        duration_ms: float | None = None,
        request_id: Any = None,
        trace_id: str | None = None,
        detail: str | None = None,
    ) -> None:
        entry: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "event": "audit",
            "outcome": outcome,
            **(principal or {"principal": None}),
        }
        if name is not None:
            entry[kind] = name
            if kind != "resource":  # a resource read has no arguments: its URI is the whole request
                entry["arguments_digest"] = digest(arguments)
            if kind == "tool" and name in self.raw_tools:
                entry["arguments"] = redact(arguments)
        if duration_ms is not None:
            entry["duration_ms"] = round(duration_ms, 3)
        if request_id is not None:
            entry["request_id"] = request_id
        if trace_id is not None:
            entry["trace_id"] = trace_id
        if detail is not None:
            entry["detail"] = detail
        self.logger.info(_RECORD(entry))

    def close(self) -> None:
        for handler in self.logger.handlers:
            handler.close()
