"""2026-07-28 multi-round-trip fixtures: results of type `input_required` (SEP-2322).

Instead of calling back to the client mid-request, a handler returns an
`InputRequiredResult` naming what it needs (`inputRequests`, keyed by names the suite
fixes) and, where it must remember something between rounds, a `requestState`. The client
answers and retries the same request with `inputResponses` and the echoed state.

The SDK seals every `requestState` we return (AES-GCM, bound to the request) and verifies
it on the way back in, so the handlers below see only plaintext they minted, and a
tampered state is refused before it reaches them.
"""

from __future__ import annotations

import json
from typing import Any

from mcp.server.mcpserver import Context, UserMessage
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import (
    MISSING_REQUIRED_CLIENT_CAPABILITY,
    ClientCapabilities,
    CreateMessageRequest,
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitationCapability,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    InputRequest,
    InputRequiredResult,
    ListRootsRequest,
    ListRootsResult,
    MissingRequiredClientCapabilityErrorData,
    RootsCapability,
    SamplingCapability,
    SamplingMessage,
    TextContent,
    ToolAnnotations,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from mcpcloud.packs import PackContext

INTERACTIVE = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=False, open_world_hint=True)


# ---- building requests --------------------------------------------------------------------


def elicit(message: str, field: str, json_type: str = "string") -> ElicitRequest:
    schema = {"type": "object", "properties": {field: {"type": json_type}}, "required": [field]}
    return ElicitRequest(params=ElicitRequestFormParams(message=message, requested_schema=schema))


def sample(text: str, max_tokens: int) -> CreateMessageRequest:
    message = SamplingMessage(role="user", content=TextContent(type="text", text=text))
    return CreateMessageRequest(params=CreateMessageRequestParams(messages=[message], max_tokens=max_tokens))


def _capability_for(request: InputRequest) -> tuple[str, ClientCapabilities]:
    if isinstance(request, ElicitRequest):
        return "elicitation", ClientCapabilities(elicitation=ElicitationCapability())
    if isinstance(request, CreateMessageRequest):
        return "sampling", ClientCapabilities(sampling=SamplingCapability())
    return "roots", ClientCapabilities(roots=RootsCapability())


def _declared(context: Context[Any, Any], capability: str) -> bool:
    declared = context.client_capabilities
    return declared is not None and getattr(declared, capability) is not None


def missing_capability(names: list[str]) -> MCPError:
    required = ClientCapabilities.model_validate({name: {} for name in names})
    data = MissingRequiredClientCapabilityErrorData(required_capabilities=required)
    return MCPError(
        code=MISSING_REQUIRED_CLIENT_CAPABILITY,
        message=f"This request needs the client capabilities it did not declare: {', '.join(names)}",
        data=data.model_dump(by_alias=True, mode="json", exclude_none=True),
    )


def ask(context: Context[Any, Any], requests: dict[str, InputRequest], state: str | None = None) -> InputRequiredResult:
    """The `input_required` result for `requests`; -32021 if the client cannot answer one of them."""
    missing = sorted({name for name, _ in map(_capability_for, requests.values()) if not _declared(context, name)})
    if missing:
        raise missing_capability(missing)
    return InputRequiredResult(input_requests=requests, request_state=state)


def require_modern_era(context: Context[Any, Any], instead: str) -> None:
    if context.protocol_version not in MODERN_PROTOCOL_VERSIONS:
        raise ToolError(
            f"Input-required results exist from protocol 2026-07-28 on; this session speaks "
            f"{context.protocol_version}. Call {instead} instead."
        )


# ---- reading answers ----------------------------------------------------------------------


def answer(context: Context[Any, Any], key: str) -> Any:
    return (context.input_responses or {}).get(key)


def elicited(context: Context[Any, Any], key: str, field: str) -> ElicitResult | None:
    """The client's answer to elicitation `key`; None when missing or accepted without `field`."""
    result = answer(context, key)
    if not isinstance(result, ElicitResult):
        return None
    if result.action == "accept" and field not in (result.content or {}):
        return None
    return result


def sampled_text(context: Context[Any, Any], key: str) -> str | None:
    result = answer(context, key)
    if not isinstance(result, CreateMessageResult):
        return None
    return result.content.text if isinstance(result.content, TextContent) else f"<{result.content.type}>"


def roots(context: Context[Any, Any], key: str) -> list[str] | None:
    result = answer(context, key)
    return [str(root.uri) for root in result.roots] if isinstance(result, ListRootsResult) else None


def field_or_refusal(result: ElicitResult, field: str) -> str:
    return str((result.content or {})[field]) if result.action == "accept" else f"<{result.action}>"


# ---- fixtures -----------------------------------------------------------------------------

ASK_NAME = elicit("What is your name?", "name")
ASK_CAPITAL = sample("What is the capital of France?", 100)
ASK_CONFIRM = elicit("Please confirm", "ok", "boolean")


def register(ctx: PackContext) -> None:
    tool = ctx.tool(annotations=INTERACTIVE)

    @tool
    async def test_input_required_result_elicitation(context: Context) -> str | InputRequiredResult:
        """Ask the user's name via an input-required result, then greet them."""
        require_modern_era(context, "test_elicitation")
        name = elicited(context, "user_name", "name")
        if name is None:  # first round, or the answer is missing: ask (again)
            return ask(context, {"user_name": ASK_NAME})
        return f"Hello, {field_or_refusal(name, 'name')}!"

    @tool
    async def test_input_required_result_sampling(context: Context) -> str | InputRequiredResult:
        """Ask the client's LLM a question via an input-required result; return its answer."""
        require_modern_era(context, "test_sampling")
        text = sampled_text(context, "capital_question")
        if text is None:
            return ask(context, {"capital_question": ASK_CAPITAL})
        return f"LLM response: {text}"

    @tool
    async def test_input_required_result_list_roots(context: Context) -> str | InputRequiredResult:
        """Ask for the client's roots via an input-required result; list them."""
        require_modern_era(context, "a roots-aware tool")
        uris = roots(context, "client_roots")
        if uris is None:
            return ask(context, {"client_roots": ListRootsRequest()})
        return f"Client roots: {', '.join(uris) or '(none)'}"

    @tool
    async def test_input_required_result_request_state(context: Context) -> str | InputRequiredResult:
        """Ask for confirmation with a requestState, and check the state comes back intact."""
        require_modern_era(context, "test_elicitation")
        state = "awaiting-confirmation"
        confirmed = elicited(context, "confirm", "ok")
        if confirmed is None or context.request_state != state:
            return ask(context, {"confirm": ASK_CONFIRM}, state)
        return f"state-ok: confirmed={field_or_refusal(confirmed, 'ok')}"

    @tool
    async def test_input_required_result_multiple_inputs(context: Context) -> str | InputRequiredResult:
        """Ask for a name, an LLM greeting and the client's roots in one input-required result."""
        require_modern_era(context, "test_elicitation")
        requests: dict[str, Any] = {
            "user_name": ASK_NAME,
            "greeting": sample("Generate a greeting", 50),
            "client_roots": ListRootsRequest(),
        }
        name = elicited(context, "user_name", "name")
        greeting = sampled_text(context, "greeting")
        uris = roots(context, "client_roots")
        answered = {"user_name": name, "greeting": greeting, "client_roots": uris}
        still_needed = {key: request for key, request in requests.items() if answered[key] is None}
        if still_needed:
            return ask(context, still_needed, "multiple-inputs")
        assert name is not None and uris is not None
        return f"name={field_or_refusal(name, 'name')}; greeting={greeting}; roots={', '.join(uris) or '(none)'}"

    @tool
    async def test_input_required_result_multi_round(context: Context) -> str | InputRequiredResult:
        """Ask two questions in two rounds, carrying the first answer in requestState."""
        require_modern_era(context, "test_elicitation")
        state = json.loads(context.request_state) if context.request_state else {"step": 1}
        if state.get("step") == 1:
            name = elicited(context, "step1", "name")
            if name is None:
                return ask(context, {"step1": elicit("Step 1: What is your name?", "name")}, json.dumps({"step": 1}))
            state = {"step": 2, "name": field_or_refusal(name, "name")}
        color = elicited(context, "step2", "color")
        if color is None:
            return ask(context, {"step2": elicit("Step 2: What is your favorite color?", "color")}, json.dumps(state))
        return f"{state['name']}'s favorite color is {field_or_refusal(color, 'color')}"

    @tool
    async def test_input_required_result_tampered_state(context: Context) -> str | InputRequiredResult:
        """Round trip with a requestState; a tampered state is refused by the SDK's integrity check."""
        require_modern_era(context, "test_elicitation")
        confirmed = elicited(context, "confirm", "ok")
        if confirmed is None or context.request_state != "integrity-protected":
            return ask(context, {"confirm": ASK_CONFIRM}, "integrity-protected")
        return f"state verified: confirmed={field_or_refusal(confirmed, 'ok')}"

    @tool
    async def test_input_required_result_capabilities(context: Context) -> str | InputRequiredResult:
        """Ask only what the client declared it can answer (elicitation and/or sampling)."""
        require_modern_era(context, "test_elicitation")
        if answer(context, "user_name") is not None or answer(context, "greeting") is not None:
            name = elicited(context, "user_name", "name")
            parts = [f"name={field_or_refusal(name, 'name')}" if name else None, sampled_text(context, "greeting")]
            return "; ".join(part for part in parts if part)
        offered: dict[str, InputRequest] = {}
        if _declared(context, "elicitation"):
            offered["user_name"] = ASK_NAME
        if _declared(context, "sampling"):
            offered["greeting"] = sample("Generate a greeting", 50)
        if not offered:
            raise missing_capability(["elicitation", "sampling"])
        return ask(context, offered)

    @ctx.prompt()
    async def test_input_required_result_prompt(context: Context) -> list[UserMessage] | InputRequiredResult:
        """A prompt that first asks the user what context to use."""
        if context.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            raise ValueError("this prompt needs input-required results (protocol 2026-07-28 or later)")
        chosen = elicited(context, "user_context", "context")
        if chosen is None:
            return ask(context, {"user_context": elicit("What context should the prompt use?", "context")})
        return [UserMessage(f"Answer using this context: {field_or_refusal(chosen, 'context')}")]
