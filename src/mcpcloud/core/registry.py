"""What the enabled packs offer, with what mcpcloud knows about each beyond its MCP definition.

Filled by the packs at startup (through `PackContext`), read by the policies when they are
compiled: which scopes each tool, resource and prompt needs, and how long a tool's result keeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mcp.shared.uri_template import UriTemplate
from mcp_types import ToolAnnotations

from mcpcloud.core.calls import CallKind


class DuplicateName(ValueError):
    """Two packs define the same tool, resource or prompt; the message names both."""


@dataclass(frozen=True)
class ToolPolicy:
    """A tool's scopes and cache policy."""

    name: str
    pack: str
    scopes: tuple[str, ...]
    annotations: ToolAnnotations
    cache_ttl: float | None = None
    """Seconds a successful result may be served from the result cache; None: never cached."""
    cache_public: bool = False
    """True when the result is the same for every caller, so one cache entry serves them all."""


@dataclass(frozen=True)
class ResourcePolicy:
    """A resource (or resource template, when `uri` has `{variables}`) and the scopes reading it needs."""

    uri: str
    pack: str
    scopes: tuple[str, ...]
    template: UriTemplate | None = None

    def matches(self, uri: str) -> bool:
        return uri == self.uri if self.template is None else self.template.match(uri) is not None


@dataclass(frozen=True)
class PromptPolicy:
    name: str
    pack: str
    scopes: tuple[str, ...]


def read_scopes(pack: str) -> tuple[str, ...]:
    return (f"{pack}:read",)


def default_scopes(pack: str, annotations: ToolAnnotations) -> tuple[str, ...]:
    """A read-only tool needs `<pack>:read`, any other `<pack>:write`."""
    return read_scopes(pack) if annotations.read_only_hint else (f"{pack}:write",)


@dataclass
class ToolRegistry:
    """Every enabled tool, resource and prompt with its policy."""

    tools: dict[str, ToolPolicy] = field(default_factory=dict)
    resources: dict[str, ResourcePolicy] = field(default_factory=dict)
    prompts: dict[str, PromptPolicy] = field(default_factory=dict)
    namespaces: dict[str, str] = field(default_factory=dict)
    """Name prefix -> pack, for packs whose tools come and go at runtime (remotes): settings may name them."""

    def add(self, policy: ToolPolicy) -> None:
        _add(self.tools, "tool", policy.name, policy)

    def add_resource(self, policy: ResourcePolicy) -> None:
        _add(self.resources, "resource", policy.uri, policy)

    def add_prompt(self, policy: PromptPolicy) -> None:
        _add(self.prompts, "prompt", policy.name, policy)

    def get(self, name: str) -> ToolPolicy | None:
        return self.tools.get(name)

    def remove(self, name: str) -> None:
        self.tools.pop(name, None)

    def reserve(self, prefix: str, pack: str) -> None:
        """Declare that `pack` adds and removes tools named `<prefix>…` while the server runs."""
        self.namespaces[prefix] = pack

    def knows(self, name: str) -> bool:
        """A tool settings may refer to: registered now, or in a namespace whose tools arrive later."""
        return name in self.tools or any(name.startswith(prefix) for prefix in self.namespaces)

    def resource_for(self, uri: str) -> ResourcePolicy | None:
        """The resource a URI reads: an exact resource first, else the first template it matches."""
        exact = self.resources.get(uri)
        if exact is not None and exact.template is None:
            return exact
        return next((p for p in self.resources.values() if p.template is not None and p.matches(uri)), None)

    def scopes_of(self, kind: CallKind, name: str) -> tuple[str, ...] | None:
        """The scopes a call needs, or None when nothing enabled has that name."""
        policy: ToolPolicy | ResourcePolicy | PromptPolicy | None
        if kind == "tool":
            policy = self.tools.get(name)
        elif kind == "resource":
            policy = self.resource_for(name)
        else:
            policy = self.prompts.get(name)
        return policy.scopes if policy is not None else None


def _add(table: dict, kind: str, key: str, policy: ToolPolicy | ResourcePolicy | PromptPolicy) -> None:  # type: ignore[type-arg]
    if key in table:
        raise DuplicateName(f"packs: {kind} {key!r} is defined by both {table[key].pack!r} and {policy.pack!r}")
    table[key] = policy
