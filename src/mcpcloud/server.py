"""Builds the MCP server from the settings: the enabled packs plus the message pipeline.

The result is transport-neutral: `mcpcloud.stdio` and `mcpcloud.http` serve the same
`McpCloud` object, so tools and policies are identical on both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from mcp.server import MCPServer

from mcpcloud import __version__
from mcpcloud.config import Settings
from mcpcloud.errors import ConfigError
from mcpcloud.health import Health
from mcpcloud.observability.tracing import tracing_enabled
from mcpcloud.packs import LifespanFactory, Pack, PackContext, ToolRegistry, load_pack, pack_settings
from mcpcloud.pipeline import build_pipeline
from mcpcloud.pipeline.policies import Policies
from mcpcloud.pipeline.tracing import apply_sdk_tracing
from mcpcloud.state.shared import SharedState, request_state_security

SERVER_NAME = "mcpcloud"
INSTRUCTIONS = (
    "mcpcloud serves tools from its enabled packs. Each tool's description says what it does; "
    "tools annotated read-only change nothing."
)


@dataclass
class McpCloud:
    """One configured server: the SDK server, the tool policies and the health of its packs."""

    settings: Settings
    mcp: MCPServer[Any]
    registry: ToolRegistry
    health: Health
    packs: list[Pack]
    policies: Policies | None = None
    shared: SharedState | None = None


def build(settings: Settings) -> McpCloud:
    packs = [load_pack(name) for name in settings.packs]
    unknown_sections = sorted(set(settings.pack) - {pack.name for pack in packs})
    if unknown_sections:
        raise ConfigError(
            f"pack.{unknown_sections[0]}: settings given for a pack that is not enabled "
            f"(enabled: {', '.join(pack.name for pack in packs) or 'none'})"
        )
    validated = {pack.name: pack_settings(pack, settings.pack.get(pack.name)) for pack in packs}

    health = Health()
    registry = ToolRegistry()
    lifespans: list[LifespanFactory] = []
    # Shared state (redis.url): sessions, request-state keys and the subscription bus across replicas.
    state_security, shared_codec = request_state_security(settings)
    shared = SharedState.from_settings(settings, shared_codec)
    if shared is not None:
        lifespans.append(shared.running)
        health.checks["redis"] = shared.ready

    @asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[dict[str, Any]]:
        # Packs open their pools here, in order, and close them in reverse at shutdown.
        async with AsyncExitStack() as stack:
            for factory in lifespans:
                await stack.enter_async_context(factory())
            health.started = True
            try:
                yield {}
            finally:
                health.started = False

    mcp: MCPServer[Any] = MCPServer(
        SERVER_NAME,
        title="mcpcloud",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        log_level=settings.log.level,
        warn_on_duplicate_tools=False,
        request_state_security=state_security,
        subscriptions=shared.bus if shared is not None else None,
    )
    for pack in packs:
        ctx = PackContext(pack=pack.name, settings=validated[pack.name], mcp=mcp, registry=registry, health=health)
        pack.register(ctx)
        lifespans.extend(ctx.lifespans)
        health.checks.update(ctx.readiness_checks)

    apply_sdk_tracing(mcp.middleware, tracing_enabled(settings.observability.tracing))
    policies = Policies.compile(settings, registry)
    mcp.middleware.extend(build_pipeline(settings, registry, policies))
    return McpCloud(
        settings=settings, mcp=mcp, registry=registry, health=health, packs=packs, policies=policies, shared=shared
    )
