"""Human approval for remote tools: the policy, binding and question of `mcpcloud.approval`, asked before forwarding.

A remote tool's mode is `[approval.tools]` by its local name, else `[approval] default`, else
`destructive` (REMOTE_DEFAULT) on every transport: a remote tool that does not say it is read-only
or non-destructive is asked about. Its annotations are the pinned ones (pins.py): a remote that
changes them is withheld until `mcpcloud remotes approve`, so it cannot talk its way out of a question.

On 2026-07-28 one local call has one requestState, used by the approval round and by the remote's
own input_required rounds alike. So the approval round comes first (its state: the binding); once
granted, the call is forwarded afresh (neither the binding nor the answer reaches the remote); a
question the remote then asks reaches the local client with the remote's state wrapped in ours,
`mcpcloud-approved:` + (binding, remote state), and the retry unwraps it for the same caller, tool
and arguments as approved, before the binding expires, or is refused. (The SDK also seals every
state we return; this check does not rely on it.) The handshake era asks by elicitation inside
the call, so the remote is only called after the answer.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from mcp_types import InputRequiredResult, ToolAnnotations
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from mcpcloud.approval import Approvals, annotated_destructive
from mcpcloud.approval.ask import not_this_call
from mcpcloud.approval.binding import Binding, arguments_digest
from mcpcloud.approval.preview import Preview, with_arguments
from mcpcloud.config import ApprovalMode

REMOTE_DEFAULT: ApprovalMode = "destructive"
PREFIX = "mcpcloud-approved:"

Answers = tuple[str | None, dict[str, Any] | None]


class Forward(Protocol):
    def __call__(self, arguments: dict[str, Any], context: Any, answers: Answers | None = None) -> Awaitable[Any]: ...


def guarded(
    approvals: Approvals, forward: Forward, remote: str, upstream: str, local: str, annotations: ToolAnnotations
) -> Callable[[dict[str, Any], Any], Awaitable[Any]]:
    """`forward`, asking the person first when the policy says so for this tool."""
    mode = approvals.mode(local, REMOTE_DEFAULT)
    destructive = annotated_destructive(annotations)
    if mode == "never" or (mode == "destructive" and not destructive):
        return forward

    async def ask_then_forward(arguments: dict[str, Any], context: Any) -> Any:
        modern = context.protocol_version in MODERN_PROTOCOL_VERSIONS
        state = context.request_state if modern else None
        if state is not None and state.startswith(PREFIX):
            binding, remote_state = unwrap_state(approvals, context, local, arguments, state)
            return wrap_state(await forward(arguments, context, (remote_state, context.input_responses)), binding)
        action = f"Call tool {upstream!r} of remote {remote!r}"
        preview = Preview(summary=with_arguments(action, arguments), destructive=destructive)
        question = await approvals.ask_first(context, local, arguments, preview, mode)
        if question is not None:
            return question
        if not modern:
            return await forward(arguments, context)
        approved = Binding.decode(context.request_state)  # the binding ask_first has just accepted
        return wrap_state(await forward(arguments, context, (None, None)), approved)

    return ask_then_forward


def wrap_state(result: Any, binding: Binding | None) -> Any:
    """The remote's question goes out with its state inside ours, so the retry comes back to this approval."""
    if not isinstance(result, InputRequiredResult) or binding is None:
        return result
    state = PREFIX + json.dumps({"approval": binding.encode(), "remote": result.request_state}, separators=(",", ":"))
    return result.model_copy(update={"request_state": state})


def unwrap_state(
    approvals: Approvals, context: Any, local: str, arguments: dict[str, Any], state: str
) -> tuple[Binding, str | None]:
    try:
        wrapped = json.loads(state.removeprefix(PREFIX))
        binding, remote_state = Binding.decode(wrapped["approval"]), wrapped["remote"]
    except (ValueError, KeyError, TypeError):
        raise not_this_call(local) from None
    caller = approvals.gate.caller_of(context)
    if binding is None or not binding.fits(caller, local, arguments_digest(local, arguments)):
        raise not_this_call(local)
    if remote_state is not None and not isinstance(remote_state, str):
        raise not_this_call(local)
    return binding, remote_state
