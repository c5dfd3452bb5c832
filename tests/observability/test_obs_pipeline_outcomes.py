"""Outcomes of refused requests, through the real MCP pipeline (no transport: the same on stdio)."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import TextContent
from prometheus_client import REGISTRY

from mcpcloud.config import load_settings
from mcpcloud.core.outcomes import (
    FORBIDDEN_CODE,
    RATE_LIMITED_CODE,
    UNAVAILABLE_CODE,
    TimedOutResult,
    denied,
    outcome_of_exception,
    outcome_of_result,
    rate_limited,
    unavailable,
)
from mcpcloud.pipeline.metrics import MetricsStage
from mcpcloud.server import build


class RefuseByMessage:
    """Stands where the security stages will: refuses echo calls whose message names a refusal."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        message = (ctx.params or {}).get("arguments", {}).get("message") if ctx.method == "tools/call" else None
        if message == "deny":
            raise denied("tool 'echo' needs scope core:read").error()
        if message == "limit":
            raise rate_limited("rate limit of 10/min exceeded for tool 'echo'", retry_after=6.5).error()
        if message == "down":
            raise unavailable("rate limit unavailable: shared state (Redis) is down", "redis down", 5).error()
        if message == "slow":
            return TimedOutResult(content=[TextContent(type="text", text="tool 'echo' timed out")], is_error=True)
        return await call_next(ctx)


def count(outcome: str, tool: str = "echo") -> float:
    labels = {"method": "tools/call", "tool": tool, "outcome": outcome}
    return REGISTRY.get_sample_value("mcpcloud_mcp_requests_total", labels) or 0.0


def other(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def server():
    server = build(load_settings(packs="core"))
    stages = server.mcp.middleware
    metrics_at = next(i for i, stage in enumerate(stages) if isinstance(stage, MetricsStage))
    stages.insert(metrics_at + 1, RefuseByMessage())
    return server


async def test_refusals_are_counted_under_their_own_outcome(server) -> None:
    before = {o: count(o) for o in ("ok", "denied", "rate_limited", "timeout", "unavailable", "protocol_error")}
    limited_before = other("mcpcloud_rate_limit_rejections_total", tool="echo")
    forbidden_before = other("mcpcloud_auth_failures_total", reason="forbidden")
    async with Client(server.mcp) as client:
        with pytest.raises(MCPError) as refused:
            await client.call_tool("echo", {"message": "deny"})
        with pytest.raises(MCPError) as limited:
            await client.call_tool("echo", {"message": "limit"})
        with pytest.raises(MCPError) as down:
            await client.call_tool("echo", {"message": "down"})
        assert (await client.call_tool("echo", {"message": "slow"})).is_error is True
        assert (await client.call_tool("echo", {"message": "fine"})).is_error is False

    assert refused.value.code == FORBIDDEN_CODE and "core:read" in refused.value.message
    assert limited.value.code == RATE_LIMITED_CODE and limited.value.data == {"retryAfterSeconds": 7}
    assert down.value.code == UNAVAILABLE_CODE and down.value.data == {"retryAfterSeconds": 5, "cause": "redis down"}
    assert count("unavailable") - before["unavailable"] == 1
    assert count("denied") - before["denied"] == 1
    assert count("rate_limited") - before["rate_limited"] == 1
    assert count("timeout") - before["timeout"] == 1
    assert count("ok") - before["ok"] == 1
    assert count("protocol_error") == before["protocol_error"]
    assert other("mcpcloud_rate_limit_rejections_total", tool="echo") - limited_before == 1
    assert other("mcpcloud_auth_failures_total", reason="forbidden") - forbidden_before == 1


def test_classification_of_results_and_exceptions() -> None:
    assert outcome_of_result({"content": [], "isError": False}) == "ok"
    assert outcome_of_result({"content": []}) == "ok"
    assert outcome_of_result({"content": [], "isError": True}) == "tool_error"
    assert outcome_of_result(None) == "ok"
    assert outcome_of_result(TimedOutResult(content=[], is_error=True)) == "timeout"
    assert outcome_of_exception(denied("no").error()) == "denied"
    assert outcome_of_exception(rate_limited("slow down", retry_after=1).error()) == "rate_limited"
    assert outcome_of_exception(unavailable("down", "redis down", 5).error()) == "unavailable"
    assert outcome_of_exception(TimeoutError()) == "timeout"
    assert outcome_of_exception(MCPError(-32602, "bad params")) == "protocol_error"
    assert outcome_of_exception(RuntimeError("bug")) == "protocol_error"
    assert isinstance(rate_limited("x", retry_after=2).error(), MCPError)


async def test_unknown_methods_share_one_series(server) -> None:
    stage = next(s for s in server.mcp.middleware if isinstance(s, MetricsStage))
    assert stage.labels("made/up", None) == ("other", "")
    assert stage.labels("tools/call", {"name": {"not": "a string"}}) == ("tools/call", "unknown")
    assert stage.labels("tools/call", {"name": "echo"}) == ("tools/call", "echo")
    assert stage.series_for("made/up", None) is stage.series_for("also/made/up", None)
