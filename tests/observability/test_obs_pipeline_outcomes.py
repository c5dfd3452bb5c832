"""Outcomes of refused requests, through the real MCP pipeline (no transport: the same on stdio)."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from prometheus_client import REGISTRY

from mcpcloud.config import load_settings
from mcpcloud.pipeline.metrics import MetricsStage
from mcpcloud.pipeline.outcome import (
    DENIED_CODE,
    RATE_LIMITED_CODE,
    TIMED_OUT_CODE,
    Denied,
    RateLimited,
    TimedOut,
    outcome_of_exception,
    outcome_of_result,
)
from mcpcloud.server import build


class RefuseByMessage:
    """Stands where the security stages will: refuses echo calls whose message names a refusal."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        message = (ctx.params or {}).get("arguments", {}).get("message") if ctx.method == "tools/call" else None
        if message == "deny":
            raise Denied("tool 'echo' needs scope core:read")
        if message == "limit":
            raise RateLimited("rate limit of 10/min exceeded for tool 'echo'", retry_after=6.5)
        if message == "slow":
            raise TimedOut("tool 'echo' took longer than 0.5s", timeout_seconds=0.5)
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
    before = {o: count(o) for o in ("ok", "denied", "rate_limited", "timeout", "protocol_error")}
    limited_before = other("mcpcloud_rate_limit_rejections_total", tool="echo")
    forbidden_before = other("mcpcloud_auth_failures_total", reason="forbidden")
    async with Client(server.mcp) as client:
        with pytest.raises(MCPError) as denied:
            await client.call_tool("echo", {"message": "deny"})
        with pytest.raises(MCPError) as limited:
            await client.call_tool("echo", {"message": "limit"})
        with pytest.raises(MCPError) as slow:
            await client.call_tool("echo", {"message": "slow"})
        assert (await client.call_tool("echo", {"message": "fine"})).is_error is False

    assert denied.value.code == DENIED_CODE and "core:read" in denied.value.message
    assert limited.value.code == RATE_LIMITED_CODE and limited.value.data == {"retryAfterSeconds": 6.5}
    assert slow.value.code == TIMED_OUT_CODE and slow.value.data == {"timeoutSeconds": 0.5}
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
    assert outcome_of_exception(Denied("no")) == "denied"
    assert outcome_of_exception(RateLimited("slow down", retry_after=1)) == "rate_limited"
    assert outcome_of_exception(TimedOut("late", timeout_seconds=1)) == "timeout"
    assert outcome_of_exception(TimeoutError()) == "timeout"
    assert outcome_of_exception(MCPError(-32602, "bad params")) == "protocol_error"
    assert outcome_of_exception(RuntimeError("bug")) == "protocol_error"
    assert isinstance(RateLimited("x", retry_after=2), MCPError) and RateLimited("x", retry_after=2).retry_after == 2


async def test_unknown_methods_share_one_series(server) -> None:
    stage = next(s for s in server.mcp.middleware if isinstance(s, MetricsStage))
    assert stage.labels("made/up", None) == ("other", "")
    assert stage.labels("tools/call", {"name": {"not": "a string"}}) == ("tools/call", "unknown")
    assert stage.labels("tools/call", {"name": "echo"}) == ("tools/call", "echo")
    assert stage.series_for("made/up", None) is stage.series_for("also/made/up", None)
