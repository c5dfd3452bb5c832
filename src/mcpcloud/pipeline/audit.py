"""The audit stage: records every tool call with its outcome (ok, tool_error, denied, rate_limited, timeout...)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError

from mcpcloud.observability.audit import AuditLog
from mcpcloud.pipeline.audit_outcome import open_outcome
from mcpcloud.pipeline.calls import TOOLS_CALL, PrincipalSource, arguments, tool_name
from mcpcloud.pipeline.refusal import RefusedError


def trace_id_from(traceparent: str | None) -> str | None:
    """The trace id of a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`)."""
    if not traceparent:
        return None
    parts = traceparent.split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else None


def request_ids(ctx: ServerRequestContext[Any, Any]) -> tuple[Any, str | None]:
    headers: Mapping[str, str] = ctx.request.headers if ctx.request is not None else {}
    meta = ctx.params.get("_meta") if ctx.params else None
    traceparent = meta.get("traceparent") if isinstance(meta, Mapping) else None
    return headers.get("x-request-id", ctx.request_id), trace_id_from(traceparent or headers.get("traceparent"))


def _is_error(result: HandlerResult) -> bool:
    if isinstance(result, dict):
        return bool(result.get("isError"))
    return bool(getattr(result, "is_error", False))


class AuditStage:
    def __init__(self, log: AuditLog, principal_of: PrincipalSource) -> None:
        self.log = log
        self.principal_of = principal_of

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != TOOLS_CALL:
            return await call_next(ctx)
        started = time.perf_counter()
        noted = open_outcome()
        outcome, detail = "error", None
        try:
            result = await call_next(ctx)
            outcome = noted[-1] if noted else ("tool_error" if _is_error(result) else "ok")
            return result
        except RefusedError as exc:
            outcome, detail = exc.refusal.outcome, exc.refusal.message
            raise
        except MCPError as exc:
            detail = exc.message
            raise
        finally:
            request_id, trace_id = request_ids(ctx)
            self.log.record(
                outcome,
                principal=self.principal_of(ctx).audit_fields(),
                tool=tool_name(ctx.params),
                arguments=arguments(ctx.params),
                duration_ms=(time.perf_counter() - started) * 1000,
                request_id=request_id,
                trace_id=trace_id,
                detail=detail,
            )
