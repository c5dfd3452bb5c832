"""Authorization: which principal may call which tool, compiled once from the registry and config.

A tool needs every scope its policy lists (pack defaults, or `auth.tool_scopes` overrides);
per-principal rules can further allow or deny tools by glob. `tools/list` shows a caller only
what it may call, and marks the list private so no cache shares it between callers.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from pydantic import BaseModel

from mcpcloud.config import AuthSettings
from mcpcloud.errors import ConfigError
from mcpcloud.packs import ToolRegistry
from mcpcloud.pipeline.calls import TOOLS_CALL, TOOLS_LIST, PrincipalSource, gated, tool_name
from mcpcloud.pipeline.refusal import FORBIDDEN, INVALID_PARAMS, Refusal
from mcpcloud.security.principal import Principal


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


class ToolAccess:
    def __init__(self, registry: ToolRegistry, overrides: dict[str, tuple[str, ...]], rules: dict[str, _Rule]) -> None:
        # The registry is read live: remote tools are added and removed while the server runs.
        self.registry = registry
        self.overrides = overrides
        self.rules = rules

    def needed(self, tool: str) -> tuple[str, ...] | None:
        policy = self.registry.get(tool)
        if policy is None:
            return None
        return self.overrides.get(tool, policy.scopes)

    @classmethod
    def compile(cls, auth: AuthSettings, registry: ToolRegistry) -> ToolAccess:
        unknown = sorted(name for name in auth.tool_scopes if not registry.knows(name))
        if unknown:
            raise ConfigError(f"auth.tool_scopes.{unknown[0]}: no enabled tool has this name")
        overrides = {name: tuple(scopes) for name, scopes in auth.tool_scopes.items()}
        rules = {
            # allow_tools unset: no allow-list; set but empty: nothing is allowed.
            ident: _Rule(allow=None if rule.allow_tools is None else (_globs(rule.allow_tools) or _NOTHING),
                         deny=_globs(rule.deny_tools))
            for ident, rule in auth.principals.items()
        }
        return cls(registry, overrides, rules)

    def all_scopes(self) -> list[str]:
        required = [self.needed(name) or () for name in self.registry.tools]
        return sorted({scope for scopes in required for scope in scopes})

    def refusal(self, principal: Principal, tool: str) -> Refusal | None:
        needed = self.needed(tool)
        if needed is None:
            return Refusal("invalid", 400, INVALID_PARAMS, f"unknown tool {tool!r}")
        if not self._rules_permit(principal, tool):
            return Refusal("denied", 403, FORBIDDEN, f"tool {tool!r} is not allowed for {principal.id}")
        missing = principal.missing_scopes(needed)
        if missing:
            return Refusal(
                "denied", 403, FORBIDDEN,
                f"tool {tool!r} needs scope {missing[0]!r}, which this credential does not have",
                missing_scope=missing[0],
            )
        return None

    def may_call(self, principal: Principal, tool: str) -> bool:
        needed = self.needed(tool)
        return needed is not None and self._rules_permit(principal, tool) and not principal.missing_scopes(needed)

    def _rules_permit(self, principal: Principal, tool: str) -> bool:
        for ident in principal.identities:
            rule = self.rules.get(ident)
            if rule is not None and not rule.permits(tool):
                return False
        return True


class AuthorizeStage:
    def __init__(self, access: ToolAccess, principal_of: PrincipalSource) -> None:
        self.access = access
        self.principal_of = principal_of

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == TOOLS_CALL:
            tool = tool_name(ctx.params)
            if not gated(ctx, tool):
                refusal = self.access.refusal(self.principal_of(ctx), tool)
                if refusal is not None:
                    raise refusal.error()
            return await call_next(ctx)
        if ctx.method == TOOLS_LIST:
            return self._visible(self.principal_of(ctx), await call_next(ctx))
        return await call_next(ctx)

    def _visible(self, principal: Principal, result: HandlerResult) -> HandlerResult:
        if isinstance(result, BaseModel):
            tools = [t for t in getattr(result, "tools", []) if self.access.may_call(principal, t.name)]
            return result.model_copy(update={"tools": tools, "cache_scope": "private"})
        if isinstance(result, dict) and isinstance(result.get("tools"), list):
            tools = [t for t in result["tools"] if self.access.may_call(principal, t.get("name", ""))]
            return {**result, "tools": tools, "cacheScope": "private"}
        return result
