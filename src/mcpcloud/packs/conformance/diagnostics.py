"""Hooks the stateless-server scenario (SEP-2575) probes a 2026-07-28 server with."""

from __future__ import annotations

import warnings
from typing import Any

from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types import InputRequiredResult, ToolAnnotations

from mcpcloud.packs import PackContext
from mcpcloud.packs.conformance.input_required import ask, elicit, elicited, missing_capability, sample, sampled_text

INTERACTIVE = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=False, open_world_hint=True)


def register(ctx: PackContext) -> None:
    tool = ctx.tool(annotations=INTERACTIVE)

    @tool
    async def test_missing_capability(context: Context) -> str | InputRequiredResult:
        """Needs the client's sampling capability; refuses with -32021 when it was not declared."""
        declared = context.client_capabilities
        if declared is None or declared.sampling is None:
            raise missing_capability(["sampling"])
        text = sampled_text(context, "probe")
        if text is None:
            return ask(context, {"probe": sample("Say hello", 20)})
        return f"LLM response: {text}"

    @tool
    async def test_streaming_elicitation(context: Context) -> str | InputRequiredResult:
        """Needs the user's confirmation; on 2026-07-28 it rides the response as an input-required result."""
        confirmed = elicited(context, "confirmation", "ok")
        if confirmed is None:
            return ask(context, {"confirmation": elicit("Continue?", "ok", "boolean")})
        return f"confirmed={confirmed.action}"

    @tool
    async def test_logging_tool(context: Context[Any, Any]) -> str:
        """Log at info level; delivered only when the request opted in to that level."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await context.log("info", "diagnostic log entry")
        return "logged"

    @tool
    async def test_trigger_tool_change(context: Context[Any, Any]) -> str:
        """Announce a tools list change to `subscriptions/listen` subscribers."""
        await context.notify_tools_changed()
        return "tools list change announced"

    @tool
    async def test_trigger_prompt_change(context: Context[Any, Any]) -> str:
        """Announce a prompts list change to `subscriptions/listen` subscribers."""
        await context.notify_prompts_changed()
        return "prompts list change announced"
