"""How an MCP request ended, as one word shared by metrics, traces, logs and the security stages.

The security stages (authorize, rate limit, timeout) refuse a request by raising one of the
exceptions below; the SDK turns each into a JSON-RPC error response, and `classify` lets
every observer name the outcome without knowing which stage refused. A stage that needs
another refusal raises a plain `MCPError`, which counts as a protocol error.
"""

from __future__ import annotations

from typing import Any, Final

from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult

from mcpcloud.pipeline.refusal import RefusedError

OK: Final = "ok"
TOOL_ERROR: Final = "tool_error"
PROTOCOL_ERROR: Final = "protocol_error"
DENIED: Final = "denied"
RATE_LIMITED: Final = "rate_limited"
TIMEOUT: Final = "timeout"
OUTCOMES: Final = (OK, TOOL_ERROR, PROTOCOL_ERROR, DENIED, RATE_LIMITED, TIMEOUT)

# Implementation-defined JSON-RPC server-error codes (the -32000..-32099 range).
DENIED_CODE: Final = -32003
RATE_LIMITED_CODE: Final = -32029
TIMED_OUT_CODE: Final = -32001


class Refusal(MCPError):
    """A request the server refused on purpose; `outcome` says which kind."""

    outcome: str = PROTOCOL_ERROR


class Denied(Refusal):
    """The caller may not do this (missing scope, tool not allowed for this principal)."""

    outcome = DENIED

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(DENIED_CODE, message, data)


class RateLimited(Refusal):
    """Too many requests; `retry_after` seconds is when the caller may try again."""

    outcome = RATE_LIMITED

    def __init__(self, message: str, retry_after: float, data: Any = None) -> None:
        payload = {"retryAfterSeconds": retry_after} if data is None else data
        super().__init__(RATE_LIMITED_CODE, message, payload)
        self.retry_after = retry_after


class TimedOut(Refusal):
    """The work took longer than its budget and was cancelled."""

    outcome = TIMEOUT

    def __init__(self, message: str, timeout_seconds: float, data: Any = None) -> None:
        payload = {"timeoutSeconds": timeout_seconds} if data is None else data
        super().__init__(TIMED_OUT_CODE, message, payload)
        self.timeout_seconds = timeout_seconds


class TimedOutResult(CallToolResult):
    """The tool error a timeout returns (the caller sees a tool error); observers count it as `timeout`."""


def outcome_of_result(result: object) -> str:
    """The outcome of a request whose pipeline returned normally.

    Inside the SDK's middleware chain results are already in wire form (a dict), so a
    failed tool shows as `isError: true`; a model result is checked too, for stages that
    short-circuit with one.
    """
    if isinstance(result, TimedOutResult):
        return TIMEOUT
    if type(result) is dict:
        return TOOL_ERROR if result.get("isError") is True else OK
    return TOOL_ERROR if getattr(result, "is_error", False) is True else OK


def outcome_of_exception(exc: BaseException) -> str:
    """The outcome of a request whose pipeline raised `exc`.

    Anything that is not a deliberate refusal reaches the client as a JSON-RPC error
    (invalid params, unknown method, internal error), so it is a protocol error.
    """
    if isinstance(exc, Refusal):
        return exc.outcome
    if isinstance(exc, RefusedError):  # the security stages' refusals
        return exc.refusal.outcome if exc.refusal.outcome in OUTCOMES else PROTOCOL_ERROR
    if isinstance(exc, TimeoutError):
        return TIMEOUT
    return PROTOCOL_ERROR
