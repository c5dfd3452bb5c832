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


def build_pipeline(settings: Settings, registry: ToolRegistry) -> list[ServerMiddleware[Any]]:
    stages: list[ServerMiddleware[Any]] = [name_caller_mistakes]
    return stages
