"""The MCP message pipeline: policies that hold on every transport.

Each stage is an SDK `ServerMiddleware` (`async (ctx, call_next) -> result`) in a module of
its own. `build_pipeline` returns only the stages the configuration enables, outermost
first, so a request pays for nothing that is switched off.
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import ServerMiddleware

from mcpcloud.config import Settings
from mcpcloud.packs import ToolRegistry
from mcpcloud.pipeline.errors import name_caller_mistakes
from mcpcloud.pipeline.policies import Policies


def build_pipeline(
    settings: Settings, registry: ToolRegistry, policies: Policies | None = None
) -> list[ServerMiddleware[Any]]:
    stages: list[ServerMiddleware[Any]] = [name_caller_mistakes]
    stages.extend(security_stages(policies or Policies.compile(settings, registry)))
    return stages


def security_stages(policies: Policies) -> list[ServerMiddleware[Any]]:
    """audit ─ authorize ─ argument size ─ rate limit ─ concurrency ─ timeout, each only when enabled."""
    from mcpcloud.pipeline.argsize import ArgumentSizeStage
    from mcpcloud.pipeline.audit import AuditStage
    from mcpcloud.pipeline.authorize import AuthorizeStage
    from mcpcloud.pipeline.concurrency import ConcurrencyStage
    from mcpcloud.pipeline.ratelimit import RateLimitStage

    source = policies.principal_of
    stages: list[ServerMiddleware[Any]] = []
    if policies.audit is not None:
        stages.append(AuditStage(policies.audit, source))
    if policies.access is not None:
        stages.append(AuthorizeStage(policies.access, source))
    if policies.max_argument_bytes:
        stages.append(ArgumentSizeStage(policies.max_argument_bytes))
    if policies.budget is not None:
        stages.append(RateLimitStage(policies.budget, source))
    if policies.concurrency is not None:
        stages.append(ConcurrencyStage(policies.concurrency, source))
    if policies.timeout is not None:
        stages.append(policies.timeout)
    return stages
