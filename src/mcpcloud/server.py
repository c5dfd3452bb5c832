"""Builds the MCP server from the settings: the enabled packs, the compiled engine, the message pipeline.

The result is transport-neutral: `mcpcloud.stdio` and `mcpcloud.http` serve the same
`McpCloud` object, so tools and policies are identical on both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcp.server import MCPServer

from mcpcloud import __version__
from mcpcloud.approval import Approvals
from mcpcloud.config import Settings
from mcpcloud.core.principal import Identity
from mcpcloud.core.registry import ToolRegistry
from mcpcloud.engine.engine import Engine
from mcpcloud.errors import ConfigError
from mcpcloud.health import Health
from mcpcloud.observability.tracing import tracing_enabled
from mcpcloud.packs import LifespanFactory, Pack, PackContext, load_pack, pack_settings
from mcpcloud.pipeline import build_pipeline
from mcpcloud.state.requeststate import request_state_security

if TYPE_CHECKING:
    from mcpcloud.state.shared import SharedState

SERVER_NAME = "mcpcloud"
INSTRUCTIONS = (
    "mcpcloud serves tools from its enabled packs. Each tool's description says what it does; "
    "tools annotated read-only change nothing."
)


@dataclass
class McpCloud:
    """One configured server: the SDK server, the compiled engine and the health of its packs."""

    settings: Settings
    mcp: MCPServer[Any]
    registry: ToolRegistry
    health: Health
    packs: list[Pack]
    engine: Engine
    shared: SharedState | None = None


def _degraded_packs(settings: Settings, enabled: list[str]) -> frozenset[str]:
    """Packs under the `degraded` readiness policy; a policy for a pack that is not enabled is a mistake."""
    readiness = settings.readiness
    unknown = sorted(set(readiness.packs) - set(enabled))
    if unknown:
        raise ConfigError(
            f"readiness.packs.{unknown[0]}: no enabled pack has this name (enabled: {', '.join(enabled)})"
        )
    return frozenset(p for p in enabled if readiness.packs.get(p, readiness.default_policy) == "degraded")


def build(settings: Settings) -> McpCloud:
    packs = [load_pack(name) for name in settings.packs]
    unknown_sections = sorted(set(settings.pack) - {pack.name for pack in packs})
    if unknown_sections:
        raise ConfigError(
            f"pack.{unknown_sections[0]}: settings given for a pack that is not enabled "
            f"(enabled: {', '.join(pack.name for pack in packs) or 'none'})"
        )
    validated = {pack.name: pack_settings(pack, settings.pack.get(pack.name)) for pack in packs}

    health = Health(
        timeout_seconds=settings.readiness.check_timeout_seconds,
        degraded_ok=_degraded_packs(settings, [p.name for p in packs]),
    )
    registry = ToolRegistry()
    auth = settings.auth
    identity = Identity.from_settings(auth.local_principal, auth.local_scopes, auth.enabled)
    lifespans: list[LifespanFactory] = []
    # Shared state (redis.url): sessions, request-state keys and the subscription bus across replicas.
    state_security, shared_codec = request_state_security(settings)
    shared = None
    if settings.redis.url is not None:
        from mcpcloud.observability.metrics import record_state_unavailable
        from mcpcloud.state.errors import observe_faults
        from mcpcloud.state.shared import SharedState  # redis is imported only when configured

        observe_faults(record_state_unavailable)  # state may not import observability; the server wires it

        shared = SharedState.from_settings(settings, shared_codec)
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
    approvals = Approvals(settings.approval, lambda context: identity.of_request(context.request_context.request).id)
    for pack in packs:
        ctx = PackContext(
            pack=pack.name,
            settings=validated[pack.name],
            _server=mcp,
            registry=registry,
            health=health,
            _identity=identity,
            wrap_tool=approvals.wrapper(getattr(pack, "approve_default", "never")),
        )
        pack.register(ctx)
        lifespans.extend(ctx.lifespans)
        health.checks.update(ctx.readiness_checks)
    if settings.remotes:
        from mcpcloud.remotes.mount import mount_remotes

        lifespans.append(mount_remotes(settings, mcp, registry, health, approvals).running)
    approvals.check_names(set(registry.tools), registry.namespaces)
    tracing = tracing_enabled(settings.observability.tracing)
    apply_sdk_tracing(mcp.middleware, tracing)
    engine = Engine.compile(settings, registry, identity)
    mcp.middleware.extend(build_pipeline(settings, engine, tracing))
    return McpCloud(
        settings=settings, mcp=mcp, registry=registry, health=health, packs=packs, engine=engine, shared=shared
    )


def apply_sdk_tracing(middleware: list[Any], enabled: bool) -> None:
    """Keep the SDK's span middleware (with HTTP-header context in front) when tracing is on; drop it when off.

    The SDK installs `OpenTelemetryMiddleware` on every server; with tracing off it would still
    build attributes and a no-op span per message, which we skip entirely.
    """
    from mcp.server._otel import OpenTelemetryMiddleware  # the SDK imports it anyway; no public name

    if not enabled:
        middleware[:] = [stage for stage in middleware if not isinstance(stage, OpenTelemetryMiddleware)]
        return
    from mcpcloud.pipeline.tracing import HeaderTraceContext

    if not any(isinstance(stage, HeaderTraceContext) for stage in middleware):
        middleware.insert(0, HeaderTraceContext())
