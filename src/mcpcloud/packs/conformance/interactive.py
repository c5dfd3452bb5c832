"""Handshake-era (<= 2025-11-25) round trips: logging, progress, sampling, elicitation, subscriptions.

On these protocol versions the server sends requests and notifications back to the client
while a tool call is in flight. The 2026-07-28 revision replaces the server-to-client
requests with `InputRequiredResult` (see `input_required`); a tool here called on that
revision says so instead of failing obscurely.
"""

from __future__ import annotations

import asyncio
import warnings
from collections import OrderedDict
from typing import Any, Literal

from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types import (
    ClientCapabilities,
    EmptyResult,
    LoggingLevel,
    SamplingCapability,
    SamplingMessage,
    SetLevelRequestParams,
    SubscribeRequestParams,
    TextContent,
    ToolAnnotations,
    UnsubscribeRequestParams,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, Field

from mcpcloud.packs import PackContext

INTERACTIVE = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
LOG_LEVELS: tuple[LoggingLevel, ...] = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
STEP_DELAY_SECONDS = 0.05  # the suite asks for ~50 ms between notifications


class PerSession:
    """Small per-session state for the handshake era, keyed by `Mcp-Session-Id` (None on stdio).

    Bounded, oldest first out, so abandoned sessions cannot grow it without limit.
    """

    def __init__(self, limit: int = 1024) -> None:
        self.limit = limit
        self._values: OrderedDict[str | None, Any] = OrderedDict()

    def get(self, key: str | None, default: Any = None) -> Any:
        return self._values.get(key, default)

    def put(self, key: str | None, value: Any) -> None:
        self._values[key] = value
        self._values.move_to_end(key)
        while len(self._values) > self.limit:
            self._values.popitem(last=False)


def session_key(request_context: ServerRequestContext[Any, Any]) -> str | None:
    headers = getattr(request_context.request, "headers", None)
    return headers.get("mcp-session-id") if headers is not None else None


def require_handshake_era(ctx: Context[Any, Any], instead: str) -> None:
    if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        raise ToolError(
            f"This tool sends server-to-client requests, which protocol {ctx.protocol_version} replaced "
            f"with input-required results; call {instead} instead."
        )


class UserInfo(BaseModel):
    username: str = Field(description="User's response")
    email: str = Field(description="User's email address")


class Sep1034Defaults(BaseModel):
    """Every primitive type with a default (SEP-1034)."""

    name: str = Field("John Doe", description="User name")
    age: int = Field(30, description="User age")
    score: float = Field(95.5, description="User score")
    status: Literal["active", "inactive", "pending"] = Field("active", description="User status")
    verified: bool = Field(True, description="Verification status")


def _titled(options: dict[str, str]) -> list[dict[str, str]]:
    return [{"const": value, "title": title} for value, title in options.items()]


class Sep1330Enums(BaseModel):
    """The five enum shapes of SEP-1330."""

    untitledSingle: Literal["option1", "option2", "option3"] = Field(description="Untitled single-select")  # noqa: N815
    titledSingle: str = Field(  # noqa: N815
        description="Titled single-select",
        json_schema_extra={
            "oneOf": _titled({"value1": "First Option", "value2": "Second Option", "value3": "Third Option"})
        },
    )
    legacyEnum: str = Field(  # noqa: N815
        description="Legacy titled enum (enumNames, deprecated)",
        json_schema_extra={"enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"]},
    )
    untitledMulti: list[Literal["option1", "option2", "option3"]] = Field(description="Untitled multi-select")  # noqa: N815
    titledMulti: list[str] = Field(  # noqa: N815
        description="Titled multi-select",
        json_schema_extra={
            "items": {"anyOf": _titled({"value1": "First Choice", "value2": "Second Choice", "value3": "Third Choice"})}
        },
    )


def register(ctx: PackContext) -> None:
    log_levels = PerSession()
    subscriptions = PerSession()
    _register_handlers(ctx, log_levels, subscriptions)
    _register_tools(ctx, log_levels)


def _register_handlers(ctx: PackContext, log_levels: PerSession, subscriptions: PerSession) -> None:
    # MCPServer has no public hook for these handshake-era methods; the SDK itself refuses
    # them on the 2026-07-28 wire (they were removed there).

    async def set_level(request: ServerRequestContext[Any, Any], params: SetLevelRequestParams) -> EmptyResult:
        log_levels.put(session_key(request), params.level)
        return EmptyResult()

    async def subscribe(request: ServerRequestContext[Any, Any], params: SubscribeRequestParams) -> EmptyResult:
        key = session_key(request)
        subscriptions.put(key, subscriptions.get(key, frozenset()) | {params.uri})
        return EmptyResult()

    async def unsubscribe(request: ServerRequestContext[Any, Any], params: UnsubscribeRequestParams) -> EmptyResult:
        key = session_key(request)
        subscriptions.put(key, subscriptions.get(key, frozenset()) - {params.uri})
        return EmptyResult()

    ctx.protocol_handler("logging/setLevel", SetLevelRequestParams, set_level)
    ctx.protocol_handler("resources/subscribe", SubscribeRequestParams, subscribe)
    ctx.protocol_handler("resources/unsubscribe", UnsubscribeRequestParams, unsubscribe)


def _register_tools(ctx: PackContext, log_levels: PerSession) -> None:
    async def log(context: Context[Any, Any], level: LoggingLevel, message: str) -> None:
        # Handshake era: honour the session's logging/setLevel. 2026-07-28: the SDK applies
        # the per-request `_meta` log level itself.
        if context.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            minimum = log_levels.get(session_key(context.request_context), "debug")
            if LOG_LEVELS.index(level) < LOG_LEVELS.index(minimum):
                return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)  # logging is deprecated only as of 2026-07-28
            await context.log(level, message)

    @ctx.tool(annotations=INTERACTIVE)
    async def test_tool_with_logging(context: Context) -> str:
        """Send three info log notifications about 50 ms apart, then return."""
        await log(context, "info", "Tool execution started")
        await asyncio.sleep(STEP_DELAY_SECONDS)
        await log(context, "info", "Tool processing data")
        await asyncio.sleep(STEP_DELAY_SECONDS)
        await log(context, "info", "Tool execution completed")
        return "Tool with logging executed successfully"

    @ctx.tool(annotations=INTERACTIVE)
    async def test_tool_with_progress(context: Context) -> str:
        """Report progress 0, 50 and 100 of 100 about 50 ms apart (when the caller sent a progress token)."""
        for step in (0, 50, 100):
            if step:
                await asyncio.sleep(STEP_DELAY_SECONDS)
            await context.report_progress(step, 100, f"Completed step {step} of 100")
        return "Completed 100 of 100 steps"

    @ctx.tool(annotations=INTERACTIVE)
    async def test_sampling(prompt: str, context: Context) -> str:
        """Ask the client's LLM (sampling/createMessage) to answer `prompt`; return its answer."""
        require_handshake_era(context, "test_input_required_result_sampling")
        if not context.session.check_client_capability(ClientCapabilities(sampling=SamplingCapability())):
            raise ToolError("The client did not declare the sampling capability, so this tool cannot ask its LLM.")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)  # sampling is deprecated only as of 2026-07-28
            result = await context.session.create_message(
                messages=[SamplingMessage(role="user", content=TextContent(type="text", text=prompt))],
                max_tokens=100,
                related_request_id=context.request_id,
            )
        answer = result.content.text if isinstance(result.content, TextContent) else f"<{result.content.type}>"
        return f"LLM response: {answer}"

    @ctx.tool(annotations=INTERACTIVE)
    async def test_elicitation(message: str, context: Context) -> str:
        """Ask the user (elicitation/create) for a username and email; report what they did."""
        return f"User response: {await _elicit(context, message, UserInfo)}"

    @ctx.tool(annotations=INTERACTIVE)
    async def test_elicitation_sep1034_defaults(context: Context) -> str:
        """Elicit a form whose fields all carry defaults (SEP-1034)."""
        return f"Elicitation completed: {await _elicit(context, 'Please provide user information', Sep1034Defaults)}"

    @ctx.tool(annotations=INTERACTIVE)
    async def test_elicitation_sep1330_enums(context: Context) -> str:
        """Elicit a form with every enum shape of SEP-1330."""
        message = "Please select values using different enum schema types"
        return f"Elicitation completed: {await _elicit(context, message, Sep1330Enums)}"


async def _elicit(context: Context[Any, Any], message: str, schema: type[BaseModel]) -> str:
    require_handshake_era(context, "test_input_required_result_elicitation")
    try:
        result = await context.elicit(message=message, schema=schema)
    except ValueError as exc:  # the client accepted with content that does not fit the schema
        raise ToolError(f"The client's elicitation answer did not match the requested form: {exc}") from None
    content = result.data.model_dump_json() if result.action == "accept" else "{}"
    return f"action={result.action}, content={content}"
