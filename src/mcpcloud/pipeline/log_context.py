"""Pipeline stage: every log line written while a request is handled names that request.

Sets the HTTP request id, the JSON-RPC id, the MCP method, the tool and the principal as the
request's log fields for the duration of the request (trace and span ids are added per
line by the logging setup). The handler runs in its own task on both
transports, but `initialize` runs inline in the reader, so the binding is always undone.
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

from mcpcloud.core.calls import tool_name
from mcpcloud.core.principal import Identity
from mcpcloud.observability.logging import REQUEST_FIELDS
from mcpcloud.observability.request_identity import request_id_of


class LogContext:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        principal = self.identity.of_request(ctx.request)
        fields: dict[str, Any] = {"mcp_method": ctx.method, "principal": principal.id}
        if ctx.request_id is not None:
            fields["jsonrpc_id"] = ctx.request_id
        request_id = request_id_of(ctx)
        if request_id is not None:
            fields["request_id"] = request_id
        tool = tool_name(ctx.method, ctx.params)
        if tool is not None:
            fields["tool"] = tool
        token = REQUEST_FIELDS.set(fields)
        try:
            return await call_next(ctx)
        finally:
            REQUEST_FIELDS.reset(token)
