"""Human approval for destructive tool calls, applied where packs register tools (`PackContext.wrap_tool`).

Each tool has a mode: `destructive` (ask when the call changes something: the tool is annotated
destructive, or its preview says this call is), `always`, or `never`. The mode comes from
`[approval.tools]`, else `[approval] default`, else the pack's own `approve_default` (absent:
`never`). A tool that needs asking is replaced by a wrapper with the same arguments plus the SDK's
`Context`, which previews the call, asks (`ask.py`) and only then runs the tool.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, get_type_hints

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.utilities.context_injection import find_context_parameter
from mcp_types import InputRequiredResult, ToolAnnotations

from mcpcloud.approval.ask import ApprovalGate, CallerOf
from mcpcloud.approval.preview import Preview, preview_of
from mcpcloud.config import ApprovalMode, ApprovalSettings
from mcpcloud.errors import ConfigError

CONTEXT_PARAMETER = "approval_context"


def annotated_destructive(annotations: ToolAnnotations) -> bool:
    """The MCP defaults: a tool not marked read-only may be destructive unless it says it is not."""
    if annotations.read_only_hint:
        return False
    return annotations.destructive_hint is not False


class Approvals:
    def __init__(self, settings: ApprovalSettings, caller_of: CallerOf) -> None:
        self.settings = settings
        self.gate = ApprovalGate(settings.ttl_seconds, caller_of)

    def mode(self, tool: str, pack_default: ApprovalMode) -> ApprovalMode:
        return self.settings.tools.get(tool) or self.settings.default or pack_default

    def wrapper(self, pack_default: ApprovalMode) -> Callable[[Callable[..., Any], str, ToolAnnotations], Any]:
        """The `PackContext.wrap_tool` hook for one pack."""

        def wrap(fn: Callable[..., Any], tool: str, annotations: ToolAnnotations) -> Callable[..., Any]:
            mode = self.mode(tool, pack_default)
            if mode == "never" or (mode == "destructive" and not annotated_destructive(annotations)):
                return fn
            return self._guarded(fn, tool, annotations, mode)

        return wrap

    async def ask_first(
        self, context: Context[Any, Any], tool: str, arguments: dict[str, Any], preview: Preview, mode: ApprovalMode
    ) -> InputRequiredResult | None:
        """For a tool that may need asking: None when it may run now, else the question. Raises ToolError: refused."""
        if mode == "always" or preview.destructive is not False:
            return await self.gate.check(context, tool, arguments, preview)
        return None

    def check_names(self, known: set[str], namespaces: Iterable[str] = ()) -> None:
        """`namespaces`: prefixes of tools that arrive while the server runs (a remote's `team_…`)."""
        prefixes = tuple(namespaces)
        unknown = sorted(name for name in set(self.settings.tools) - known if not name.startswith(prefixes))
        if unknown:
            remotes = f"; or a remote's tool, named {', '.join(p + '…' for p in prefixes)}" if prefixes else ""
            raise ConfigError(
                f"approval.tools.{unknown[0]}: no enabled tool has this name "
                f"(enabled: {', '.join(sorted(known))}{remotes})"
            )

    def _guarded(
        self, fn: Callable[..., Any], tool: str, annotations: ToolAnnotations, mode: ApprovalMode
    ) -> Callable[..., Any]:
        own_context = find_context_parameter(fn)
        context_name = own_context or CONTEXT_PARAMETER

        @functools.wraps(fn)
        async def guarded(**kwargs: Any) -> Any:
            context = kwargs[context_name] if own_context else kwargs.pop(context_name)
            arguments = {key: value for key, value in kwargs.items() if key != context_name}
            preview = await preview_of(fn, tool, arguments)
            if preview.destructive is None:
                preview = replace(preview, destructive=annotated_destructive(annotations))
            question = await self.ask_first(context, tool, arguments, preview, mode)
            if question is not None:
                return question
            if inspect.iscoroutinefunction(fn):
                return await fn(**kwargs)
            return await anyio.to_thread.run_sync(functools.partial(fn, **kwargs))

        _give_signature(guarded, fn, None if own_context else context_name)
        return guarded


def _give_signature(wrapper: Callable[..., Any], fn: Callable[..., Any], added_context: str | None) -> None:
    """The wrapper takes fn's arguments (same input schema) and may also return an `InputRequiredResult`."""
    hints = get_type_hints(fn)
    signature = inspect.signature(fn, eval_str=True)
    parameters = list(signature.parameters.values())
    if added_context is not None:
        parameters.append(inspect.Parameter(added_context, inspect.Parameter.KEYWORD_ONLY, annotation=Context))
        hints[added_context] = Context
    returns = signature.return_annotation
    if returns is not inspect.Signature.empty:
        returns = returns | InputRequiredResult
        hints["return"] = returns
    wrapper.__signature__ = signature.replace(parameters=parameters, return_annotation=returns)  # type: ignore[attr-defined]
    wrapper.__annotations__ = hints
