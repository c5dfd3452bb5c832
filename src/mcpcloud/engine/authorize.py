"""Authorization: which principal may call which tool, read which resource, get which prompt.

Compiled once from the registry and the settings. A call needs every scope its policy lists
(pack defaults, or `auth.tool_scopes` overrides for tools); per-principal rules further allow
or deny tools by glob. With authorization on, a tool nothing enabled offers is refused as
invalid (no caller learns more than "unknown"); an unknown resource or prompt is left to the SDK,
which answers "not found" in its own words.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from mcpcloud.config import AuthSettings
from mcpcloud.core.calls import Call, CallKind
from mcpcloud.core.outcomes import Refusal, denied, invalid
from mcpcloud.core.principal import Principal
from mcpcloud.core.registry import ToolRegistry
from mcpcloud.engine.policy import Policy
from mcpcloud.errors import ConfigError


@dataclass(frozen=True)
class _Rule:
    allow: re.Pattern[str] | None
    deny: re.Pattern[str] | None

    def permits(self, tool: str) -> bool:
        if self.deny is not None and self.deny.match(tool):
            return False
        return self.allow is None or bool(self.allow.match(tool))


_NOTHING = re.compile(r"(?!)")


def _globs(patterns: list[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


class _ToolScopes(Mapping[str, tuple[str, ...]]):
    """Tool -> the scopes it needs, read live from the registry (remote tools come and go while the
    server runs), with the `auth.tool_scopes` overrides on top."""

    def __init__(self, registry: ToolRegistry, overrides: dict[str, tuple[str, ...]]) -> None:
        self.registry = registry
        self.overrides = overrides

    def __getitem__(self, name: str) -> tuple[str, ...]:
        policy = self.registry.get(name)
        if policy is None:
            raise KeyError(name)
        return self.overrides.get(name, policy.scopes)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self.registry.tools))

    def __len__(self) -> int:
        return len(self.registry.tools)


class Access(Policy):
    name = "authorize"

    def __init__(
        self, tool_scopes: Mapping[str, tuple[str, ...]], rules: dict[str, _Rule], registry: ToolRegistry
    ) -> None:
        self.tool_scopes = tool_scopes
        self.rules = rules
        self.registry = registry

    @classmethod
    def compile(cls, auth: AuthSettings, registry: ToolRegistry) -> Access:
        unknown = sorted(name for name in auth.tool_scopes if not registry.knows(name))
        if unknown:
            raise ConfigError(f"auth.tool_scopes.{unknown[0]}: no enabled tool has this name")
        tool_scopes = _ToolScopes(registry, {name: tuple(scopes) for name, scopes in auth.tool_scopes.items()})
        rules = {
            # allow_tools unset: no allow-list; set but empty: nothing is allowed.
            ident: _Rule(
                allow=None if rule.allow_tools is None else (_globs(rule.allow_tools) or _NOTHING),
                deny=_globs(rule.deny_tools),
            )
            for ident, rule in auth.principals.items()
        }
        return cls(tool_scopes, rules, registry)

    def all_scopes(self) -> list[str]:
        every = [*self.tool_scopes.values()]
        every += [p.scopes for p in self.registry.resources.values()]
        every += [p.scopes for p in self.registry.prompts.values()]
        return sorted({scope for scopes in every for scope in scopes})

    def needed(self, kind: CallKind, name: str) -> tuple[str, ...] | None:
        if kind == "tool":
            return self.tool_scopes.get(name)
        return self.registry.scopes_of(kind, name)

    async def admit(self, call: Call) -> Refusal | None:
        return self.refusal(call.principal, call.kind, call.name)

    def refusal(self, principal: Principal, kind: CallKind, name: str) -> Refusal | None:
        needed = self.needed(kind, name)
        if needed is None:
            return invalid(f"unknown tool {name!r}") if kind == "tool" else None
        if kind == "tool" and not self._rules_permit(principal, name):
            return denied(f"tool {name!r} is not allowed for {principal.id}")
        missing = principal.missing_scopes(needed)
        if missing:
            return denied(
                f"{kind} {name!r} needs scope {missing[0]!r}, which this credential does not have",
                missing_scope=missing[0],
            )
        return None

    def may_see(self, principal: Principal, kind: CallKind, scopes: tuple[str, ...] | None, name: str) -> bool:
        """Whether a list shows this entry to `principal` (what it may call, and nothing unknown)."""
        if scopes is None or principal.missing_scopes(scopes):
            return False
        return kind != "tool" or self._rules_permit(principal, name)

    def _rules_permit(self, principal: Principal, tool: str) -> bool:
        for ident in principal.identities:
            rule = self.rules.get(ident)
            if rule is not None and not rule.permits(tool):
                return False
        return True
