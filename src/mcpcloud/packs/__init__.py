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
from typing import Any, Protocol, TypeVar, runtime_checkable

from mcp.server import MCPServer
from mcp.shared.uri_template import UriTemplate
from mcp_types import ToolAnnotations
from pydantic import BaseModel, ValidationError

from mcpcloud.core.principal import Identity, Principal
from mcpcloud.core.registry import (
    DuplicateName,
    PromptPolicy,
    ResourcePolicy,
    ToolPolicy,
    ToolRegistry,
    default_scopes,
    read_scopes,
)
from mcpcloud.errors import ConfigError
from mcpcloud.health import Health, ReadinessCheck

__all__ = [
    "ENTRY_POINT_GROUP",
    "LifespanFactory",
    "Pack",
    "PackContext",
    "ReadinessCheck",
    "ToolPolicy",
    "ToolRegistry",
    "available_packs",
    "default_scopes",
    "load_pack",
    "pack_settings",
]

ENTRY_POINT_GROUP = "mcpcloud.packs"

LifespanFactory = Callable[[], AbstractAsyncContextManager[Any]]

_F = TypeVar("_F", bound=Callable[..., Any])

ToolWrapper = Callable[[Callable[..., Any], str, ToolAnnotations], Callable[..., Any]]
"""Given (function, tool name, annotations), the function the server calls instead (e.g. `mcpcloud.approval`)."""


@runtime_checkable
class Pack(Protocol):
    name: str
    description: str
    Settings: type[BaseModel]

    def register(self, ctx: PackContext) -> None: ...


def _scopes(given: tuple[str, ...] | list[str] | None, default: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(given) if given is not None else default


@dataclass
class PackContext:
    """What a pack sees while it registers: its settings and the ways to add things. Nothing else.

    Every tool, resource and prompt goes through here, so each one has the scopes the engine
    authorizes, rate-limits and audits it by; a pack never holds the SDK server itself.
    """

    pack: str
    settings: Any
    _server: MCPServer[Any]
    registry: ToolRegistry
    health: Health
    _identity: Identity
    lifespans: list[LifespanFactory] = field(default_factory=list)
    readiness_checks: dict[str, ReadinessCheck] = field(default_factory=dict)
    wrap_tool: ToolWrapper | None = None

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
            self._register(
                self.registry.add,
                ToolPolicy(
                    name=tool_name,
                    pack=self.pack,
                    scopes=_scopes(scopes, default_scopes(self.pack, tool_annotations)),
                    annotations=tool_annotations,
                    cache_ttl=cache_ttl,
                    cache_public=cache_public,
                ),
            )
            self._server.add_tool(
                self.wrap_tool(fn, tool_name, tool_annotations) if self.wrap_tool else fn,
                name=tool_name,
                title=title,
                description=description,
                annotations=tool_annotations,
                structured_output=structured_output,
                meta=meta,
            )
            return fn

        return decorator

    def resource(
        self,
        uri: str,
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        mime_type: str | None = None,
        scopes: tuple[str, ...] | list[str] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Callable[[_F], _F]:
        """Register a function as a resource (a template when `uri` has `{variables}`).

        Reading it needs `scopes`, by default `<pack>:read`.
        """
        parsed = UriTemplate.parse(uri)
        template = parsed if parsed.variable_names else None
        register = self._server.resource(
            uri, name=name, title=title, description=description, mime_type=mime_type, meta=meta
        )

        def decorator(fn: _F) -> _F:
            policy = ResourcePolicy(
                uri=uri, pack=self.pack, scopes=_scopes(scopes, read_scopes(self.pack)), template=template
            )
            self._register(self.registry.add_resource, policy)
            return register(fn)

        return decorator

    def prompt(
        self,
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        scopes: tuple[str, ...] | list[str] | None = None,
    ) -> Callable[[_F], _F]:
        """Register a function as a prompt; getting it needs `scopes`, by default `<pack>:read`."""

        def decorator(fn: _F) -> _F:
            prompt_name = name or fn.__name__
            policy = PromptPolicy(name=prompt_name, pack=self.pack, scopes=_scopes(scopes, read_scopes(self.pack)))
            self._register(self.registry.add_prompt, policy)
            return self._server.prompt(name=prompt_name, title=title, description=description)(fn)

        return decorator

    def completion(self) -> Callable[[_F], _F]:
        """Register the pack's `completion/complete` handler (argument suggestions for its prompts and templates)."""
        return self._server.completion()

    def protocol_handler(
        self, method: str, params_type: type[BaseModel], handler: Callable[..., Awaitable[Any]]
    ) -> None:
        """Answer a protocol method the SDK has no high-level hook for (e.g. handshake-era `logging/setLevel`).

        `handler(ctx, params)` gets the SDK's request context and the validated params. Not for
        tools, resources or prompts: those go through `tool`, `resource` and `prompt`, which
        the engine authorizes.
        """
        self._server._lowlevel_server.add_request_handler(method, params_type, handler)  # no public accessor

    def caller(self, context: Any) -> Principal:
        """Who is calling the tool that got `context` (its SDK `Context`): the same principal the
        audit log, rate limits and logs name (`.id`: `key:<id>`, `sub:<subject>`, `local:<name>`, `anonymous`)."""
        return self._identity.of_request(context.request_context.request)

    def lifespan(self, factory: LifespanFactory) -> LifespanFactory:
        """Register an async context manager entered at server start and exited at shutdown."""
        self.lifespans.append(factory)
        return factory

    def readiness(self, check: ReadinessCheck) -> ReadinessCheck:
        """Register this pack's readiness check (at most one per pack; the last one wins)."""
        self.readiness_checks[self.pack] = check
        return check

    @staticmethod
    def _register(add: Callable[[Any], None], policy: Any) -> None:
        try:
            add(policy)
        except DuplicateName as exc:
            raise ConfigError(str(exc)) from None


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
    """Validate `[pack.<name>]` with the pack's own model, naming the key on error.

    Any `SecretStr` field of any pack model (nested ones too) may be given as `<field>_file`.
    """
    from mcpcloud.config import describe_validation_error, read_secret_files_deep

    prefix = f"pack.{pack.name}."
    try:
        return pack.Settings.model_validate(read_secret_files_deep(pack.Settings, raw or {}, prefix))
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, prefix=prefix)) from None
