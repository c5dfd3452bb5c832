"""Asking the person, in whichever way the session's protocol era allows.

- Handshake era (<= 2025-11-25): an `elicitation/create` request while the call is in flight.
- 2026-07-28: the call returns an `input_required` result carrying the question and a
  binding (`binding.py`); the client asks, then repeats the call with the answer.

A client that did not declare elicitation cannot ask anyone, so the call is refused with the
setting that would let the tool run without asking.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ElicitRequest, ElicitRequestFormParams, ElicitResult, InputRequiredResult
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, Field

from mcpcloud.approval.binding import Binding, SpentNonces, arguments_digest
from mcpcloud.approval.preview import Preview, clipped

ANSWER_KEY = "approval"
ANSWER_FIELD = "approve"


class ApprovalAnswer(BaseModel):
    approve: bool = Field(description="Approve this action? Leave unchecked or decline to refuse it.")


ANSWER_SCHEMA: dict[str, Any] = ApprovalAnswer.model_json_schema()
"""The same form on both eras (the handshake era's `Context.elicit` derives it from the model too)."""


CallerOf = Callable[[Context[Any, Any]], str]
"""The id of the principal making a call (the server's `Identity`: the local principal on stdio)."""


def question(tool: str, preview: Preview) -> str:
    return clipped(f"Allow {tool}?\n\n{preview.summary}")


def cannot_ask(tool: str) -> ToolError:
    return ToolError(
        f"{tool} needs your approval, but this client cannot ask you: it did not declare the elicitation "
        f"capability. Use a client that supports elicitation, or let {tool} run without asking by setting "
        f'[approval.tools] {tool} = "never" in the mcpcloud config file '
        f'(environment: MCPCLOUD_APPROVAL__TOOLS=\'{{"{tool}": "never"}}\').'
    )


def declined(tool: str, action: str) -> ToolError:
    return ToolError(f"{tool} was not run: the approval was {action} (nothing was changed).")


def not_this_call(tool: str) -> ToolError:
    return ToolError(
        f"{tool} was not run: the approval sent with this call was given for another call (different "
        f"arguments, tool or caller), was already used, or has expired. An approval covers exactly one "
        f"call; call {tool} again to be asked afresh."
    )


def can_elicit(context: Context[Any, Any]) -> bool:
    declared = context.client_capabilities
    return declared is not None and declared.elicitation is not None


def accepted(action: str, content: dict[str, Any] | None) -> bool:
    return action == "accept" and (content or {}).get(ANSWER_FIELD) is True


class ApprovalGate:
    """Decides, for one call that needs approval, whether the person approved it."""

    def __init__(self, ttl_seconds: float, caller_of: CallerOf) -> None:
        self.ttl_seconds = ttl_seconds
        self.caller_of = caller_of
        self.spent = SpentNonces()

    async def check(
        self, context: Context[Any, Any], tool: str, arguments: dict[str, Any], preview: Preview
    ) -> InputRequiredResult | None:
        """None: approved, run the tool. An `InputRequiredResult`: ask first. Raises ToolError: refused."""
        if context.protocol_version in MODERN_PROTOCOL_VERSIONS:
            return self._modern(context, tool, arguments, preview)
        await self._handshake(context, tool, preview)
        return None

    async def _handshake(self, context: Context[Any, Any], tool: str, preview: Preview) -> None:
        if not can_elicit(context):
            raise cannot_ask(tool)
        # The question and its answer happen inside this one call, so the answer can only be for it.
        answer = await context.elicit(question(tool, preview), ApprovalAnswer)
        content = answer.data.model_dump() if answer.action == "accept" else None
        if not accepted(answer.action, content):
            raise declined(tool, "declined" if answer.action == "accept" else answer.action)

    def _modern(
        self, context: Context[Any, Any], tool: str, arguments: dict[str, Any], preview: Preview
    ) -> InputRequiredResult | None:
        caller, digest = self.caller_of(context), arguments_digest(tool, arguments)
        answer = (context.input_responses or {}).get(ANSWER_KEY)
        if context.request_state is None and answer is None:
            if not can_elicit(context):
                raise cannot_ask(tool)
            binding = Binding.new(caller, tool, digest, self.ttl_seconds)
            form = ElicitRequestFormParams(message=question(tool, preview), requested_schema=ANSWER_SCHEMA)
            return InputRequiredResult(
                input_requests={ANSWER_KEY: ElicitRequest(params=form)}, request_state=binding.encode()
            )
        binding = Binding.decode(context.request_state)
        if binding is None or not binding.fits(caller, tool, digest) or not isinstance(answer, ElicitResult):
            raise not_this_call(tool)
        if not self.spent.spend(binding):
            raise not_this_call(tool)
        if not accepted(answer.action, answer.content):
            raise declined(tool, "declined" if answer.action == "accept" else answer.action)
        return None
