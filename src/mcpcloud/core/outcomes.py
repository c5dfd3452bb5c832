"""How a request ended, in one word, and the JSON-RPC error code of each refusal.

Metrics, traces, logs and the audit log all use these words; the policies refuse with a
`Refusal`, which is a JSON-RPC error inside the MCP pipeline and an HTTP response (with the
status below) in front of the SDK. Each error code means exactly one thing:

| outcome         | HTTP | JSON-RPC code | meaning                                              |
| --------------- | ---- | ------------- | ---------------------------------------------------- |
| unauthenticated | 401  | -32011        | no or a bad credential                               |
| denied          | 403  | -32003        | the principal may not make this call                 |
| invalid         | 400/413 | -32602     | the call itself is wrong (unknown tool, arguments too large) |
| rate_limited    | 429  | -32029        | over a rate or concurrency limit; retry after `data.retryAfterSeconds` |
| unavailable     | 503  | -32053        | shared state (Redis) or the token issuer cannot answer; `data.cause` says why |

`-32001` is the SDK's own request-timeout code and `-32000` its connection-closed code, so
mcpcloud uses neither. A tool that times out returns a tool error (`TimedOutResult`), not a
JSON-RPC error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult

OK: Final = "ok"
TOOL_ERROR: Final = "tool_error"
PROTOCOL_ERROR: Final = "protocol_error"
INVALID: Final = "invalid"
DENIED: Final = "denied"
RATE_LIMITED: Final = "rate_limited"
TIMEOUT: Final = "timeout"
UNAVAILABLE: Final = "unavailable"
UNAUTHENTICATED: Final = "unauthenticated"

OUTCOMES: Final = (OK, TOOL_ERROR, PROTOCOL_ERROR, INVALID, DENIED, RATE_LIMITED, TIMEOUT, UNAVAILABLE)
"""Every way an MCP request (one that reached the MCP layer) can end: the metrics' outcome label."""

RefusalOutcome = Literal["invalid", "denied", "rate_limited", "unavailable", "unauthenticated"]

# Implementation-defined JSON-RPC server-error codes (the -32000..-32099 range), one meaning each.
UNAUTHENTICATED_CODE: Final = -32011
FORBIDDEN_CODE: Final = -32003
RATE_LIMITED_CODE: Final = -32029
UNAVAILABLE_CODE: Final = -32053
INVALID_PARAMS_CODE: Final = -32602
INVALID_REQUEST_CODE: Final = -32600


@dataclass(frozen=True, slots=True)
class Refusal:
    """A policy's "no": becomes a JSON-RPC error in the pipeline, an HTTP response in front of the SDK."""

    outcome: RefusalOutcome
    status: int
    code: int
    message: str
    retry_after: float | None = None
    missing_scope: str | None = None
    cause: str | None = None

    @property
    def retry_after_header(self) -> str | None:
        return None if self.retry_after is None else str(max(1, math.ceil(self.retry_after)))

    def data(self) -> dict[str, object] | None:
        data: dict[str, object] = {}
        if self.retry_after is not None:
            data["retryAfterSeconds"] = max(1, math.ceil(self.retry_after))
        if self.missing_scope is not None:
            data["requiredScope"] = self.missing_scope
        if self.cause is not None:
            data["cause"] = self.cause
        return data or None

    def error(self) -> RefusedError:
        return RefusedError(self)


def invalid(message: str, status: int = 400) -> Refusal:
    return Refusal(INVALID, status, INVALID_PARAMS_CODE, message)


def denied(message: str, missing_scope: str | None = None) -> Refusal:
    return Refusal(DENIED, 403, FORBIDDEN_CODE, message, missing_scope=missing_scope)


def rate_limited(message: str, retry_after: float) -> Refusal:
    return Refusal(RATE_LIMITED, 429, RATE_LIMITED_CODE, message, retry_after=retry_after)


def unavailable(message: str, cause: str, retry_after: float) -> Refusal:
    return Refusal(UNAVAILABLE, 503, UNAVAILABLE_CODE, message, retry_after=retry_after, cause=cause)


def unauthenticated(message: str) -> Refusal:
    return Refusal(UNAUTHENTICATED, 401, UNAUTHENTICATED_CODE, message)


class RefusedError(MCPError):
    """A refusal raised inside the MCP pipeline; the SDK turns it into the JSON-RPC error the client sees."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.code, refusal.message, refusal.data())
        self.refusal = refusal


class TimedOutResult(CallToolResult):
    """The tool error a timeout returns (the caller sees a tool error); observers count it as `timeout`."""


def outcome_of_result(result: object) -> str:
    """The outcome of a request whose handler returned normally.

    Inside the SDK's middleware chain results are already in wire form (a dict), so a failed
    tool shows as `isError: true`; a model result is checked too, for stages that answer with one.
    """
    if isinstance(result, TimedOutResult):
        return TIMEOUT
    if type(result) is dict:
        return TOOL_ERROR if result.get("isError") is True else OK
    return TOOL_ERROR if getattr(result, "is_error", False) is True else OK


def outcome_of_exception(exc: BaseException) -> str:
    """The outcome of a request whose handler raised `exc`.

    Anything that is not a deliberate refusal reaches the client as a JSON-RPC error (invalid
    params, unknown method, internal error), so it is a protocol error.
    """
    if isinstance(exc, RefusedError):
        return exc.refusal.outcome
    if isinstance(exc, TimeoutError):
        return TIMEOUT
    return PROTOCOL_ERROR
