"""The tool-pack contract and pack discovery.

A pack is any object (usually a module) with:

- `name: str` and `description: str`;
- `Settings`: a pydantic model of its own settings (`[pack.<name>]` in TOML,
  `MCPCLOUD_PACK__<NAME>__<KEY>` in the environment);
- `register(ctx: PackContext) -> None`: adds its tools, resources and prompts through `ctx`,
  and hands `ctx` its lifespan (connection pools opened at startup, closed at shutdown) and
  its readiness check.

Packs are found through the `mcpcloud.packs` entry-point group, so a third-party pack
installs with pip and is enabled by name; a pack not installed as a distribution can be
enabled by its module path. A pack never reaches into another pack or HTTP.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from importlib import import_module
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from mcp.server import MCPServer
from mcp_types import ToolAnnotations
from pydantic import BaseModel, ValidationError

from mcpcloud.errors import ConfigError

if TYPE_CHECKING:
    from mcpcloud.health import Health

ENTRY_POINT_GROUP = "mcpcloud.packs"

ReadinessCheck = Callable[[], Awaitable[None]]
"""Returns when the pack can serve; raises (with a message saying what is wrong) when it cannot."""

LifespanFactory = Callable[[], AbstractAsyncContextManager[Any]]

_F = TypeVar("_F", bound=Callable[..., Any])


@runtime_checkable
class Pack(Protocol):
    name: str
    description: str
    Settings: type[BaseModel]

    def register(self, ctx: PackContext) -> None: ...


@dataclass(frozen=True)
class ToolPolicy:
    """What mcpcloud knows about a tool beyond its MCP definition: who may call it, how long its result keeps."""

    name: str
    pack: str
    scopes: tuple[str, ...]
    annotations: ToolAnnotations
    cache_ttl: float | None = None
    """Seconds a successful result may be served from the result cache; None: never cached."""
    cache_public: bool = False
    """True when the result is the same for every caller, so one cache entry serves them all."""


@dataclass
class ToolRegistry:
    """Every enabled tool's policy, filled by packs at startup and read by the pipeline."""

    tools: dict[str, ToolPolicy] = field(default_factory=dict)

    def add(self, policy: ToolPolicy) -> None:
        if policy.name in self.tools:
            other = self.tools[policy.name].pack
            raise ConfigError(f"packs: tool {policy.name!r} is defined by both {other!r} and {policy.pack!r}")
        self.tools[policy.name] = policy

    def get(self, name: str) -> ToolPolicy | None:
        return self.tools.get(name)


def default_scopes(pack: str, annotations: ToolAnnotations) -> tuple[str, ...]:
    return (f"{pack}:read",) if annotations.read_only_hint else (f"{pack}:write",)


@dataclass
class PackContext:
    """What a pack sees while it registers: its settings and the ways to add things."""

    pack: str
    settings: Any
    mcp: MCPServer[Any]
    registry: ToolRegistry
    health: Health
    lifespans: list[LifespanFactory] = field(default_factory=list)
    readiness_checks: dict[str, ReadinessCheck] = field(default_factory=dict)

    def tool(
        self,
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        annotations: ToolAnnotations | None = None,
        scopes: tuple[str, ...] | list[str] | None = None,
        structured_output: bool | None = None,
        meta: dict[str, Any] | None = None,
        cache_ttl: float | None = None,
        cache_public: bool = False,
    ) -> Callable[[_F], _F]:
        """Register a function as a tool; its input and output schemas come from its type hints.

        Without `scopes`, a read-only tool needs `<pack>:read` and any other `<pack>:write`.
        `cache_ttl` opts the tool into the result cache; `cache_public` lets callers share entries.
        """

        def decorator(fn: _F) -> _F:
            tool_name = name or fn.__name__
            tool_annotations = annotations or ToolAnnotations()
            self.mcp.add_tool(
                fn,
                name=tool_name,
                title=title,
                description=description,
                annotations=tool_annotations,
                structured_output=structured_output,
                meta=meta,
            )
            self.registry.add(
                ToolPolicy(
                    name=tool_name,
                    pack=self.pack,
                    scopes=tuple(scopes) if scopes is not None else default_scopes(self.pack, tool_annotations),
                    annotations=tool_annotations,
                    cache_ttl=cache_ttl,
                    cache_public=cache_public,
                )
            )
            return fn

        return decorator

    def lifespan(self, factory: LifespanFactory) -> LifespanFactory:
        """Register an async context manager entered at server start and exited at shutdown."""
        self.lifespans.append(factory)
        return factory

    def readiness(self, check: ReadinessCheck) -> ReadinessCheck:
        """Register this pack's readiness check (at most one per pack; the last one wins)."""
        self.readiness_checks[self.pack] = check
        return check


def available_packs() -> dict[str, Any]:
    """Name -> entry point of every installed pack."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load_pack(name: str) -> Pack:
    """An installed pack by entry-point name, or a local one by module path (`mycompany.packs.tickets`)."""
    found = available_packs()
    if name in found:
        pack = _load_entry_point(name, found[name])
    elif "." in name:
        try:
            pack = import_module(name)
        except ImportError as exc:
            raise ConfigError(f"packs: cannot import pack module {name!r}: {exc}") from None
    else:
        known = ", ".join(sorted(found)) or "none installed"
        raise ConfigError(f"packs: unknown pack {name!r} (available: {known})")
    if not isinstance(pack, Pack):
        raise ConfigError(f"packs: {name!r} does not provide name, description, Settings and register()")
    return pack


def _load_entry_point(name: str, entry_point: Any) -> Any:
    """Import an installed pack, after checking the extras its entry point names (`[sql]`) are installed."""
    from mcpcloud.packs.extras import require_extra

    owner = entry_point.dist.name if entry_point.dist else "mcpcloud"
    for extra in entry_point.extras:
        require_extra(extra, f"pack {name!r}", owner)
    try:
        return entry_point.load()
    except ImportError as exc:
        raise ConfigError(f"packs: cannot import pack {name!r} ({entry_point.value}): {exc}") from None


def pack_settings(pack: Pack, raw: dict[str, Any] | None) -> BaseModel:
    """Validate `[pack.<name>]` with the pack's own model, naming the key on error."""
    from mcpcloud.config import describe_validation_error

    try:
        return pack.Settings.model_validate(raw or {})
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, prefix=f"pack.{pack.name}.")) from None

