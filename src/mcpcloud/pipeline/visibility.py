"""Lists show a caller only what it may call: tools, resources, resource templates, prompts.

A filtered list differs per caller, so it is marked `cacheScope: private` (no shared cache may
serve it to someone else).
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from pydantic import BaseModel

from mcpcloud.core.calls import PROMPTS_LIST, RESOURCE_TEMPLATES_LIST, RESOURCES_LIST, TOOLS_LIST, CallKind
from mcpcloud.core.principal import Identity, Principal
from mcpcloud.engine.authorize import Access

# method -> (wire field, model field, call kind, wire key of an entry, model attribute of an entry)
_LISTS: dict[str, tuple[str, str, CallKind, str, str]] = {
    TOOLS_LIST: ("tools", "tools", "tool", "name", "name"),
    RESOURCES_LIST: ("resources", "resources", "resource", "uri", "uri"),
    RESOURCE_TEMPLATES_LIST: ("resourceTemplates", "resource_templates", "resource", "uriTemplate", "uri_template"),
    PROMPTS_LIST: ("prompts", "prompts", "prompt", "name", "name"),
}


class ListVisibility:
    def __init__(self, access: Access, identity: Identity) -> None:
        self.access = access
        self.identity = identity

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        shape = _LISTS.get(ctx.method)
        if shape is None:
            return await call_next(ctx)
        result = await call_next(ctx)
        return self._visible(self.identity.of_request(ctx.request), shape, result)

    def _visible(self, principal: Principal, shape: tuple[str, str, CallKind, str, str], result: HandlerResult) -> Any:
        wire_field, model_field, kind, wire_key, model_key = shape

        def shown(key: Any) -> bool:
            name = str(key)
            return self.access.may_see(principal, kind, self._listed_scopes(kind, name), name)

        if isinstance(result, BaseModel):
            entries = [e for e in getattr(result, model_field, []) if shown(getattr(e, model_key, ""))]
            return result.model_copy(update={model_field: entries, "cache_scope": "private"})
        if isinstance(result, dict) and isinstance(result.get(wire_field), list):
            entries = [e for e in result[wire_field] if shown(e.get(wire_key, ""))]
            return {**result, wire_field: entries, "cacheScope": "private"}
        return result

    def _listed_scopes(self, kind: CallKind, key: str) -> tuple[str, ...] | None:
        if kind == "tool":
            return self.access.tool_scopes.get(key)
        registry = self.access.registry
        policy = registry.resources.get(key) if kind == "resource" else registry.prompts.get(key)
        return policy.scopes if policy is not None else None
