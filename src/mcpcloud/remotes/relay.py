"""What flows back from a remote to the local caller during one call: progress and questions.

A remote tool call runs inside the local request. Progress is reported against the local
request's own progress token. A question the remote asks (handshake-era `elicitation/create`,
or a 2026-07-28 `input_required` round the SDK client turns into the same callback) is asked
of the local client on the local request's stream, and its answer goes back to the remote.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Any

from mcp.client.session import ClientRequestContext
from mcp.shared.message import ServerMessageMetadata
from mcp_types import INVALID_REQUEST, ElicitRequest, ElicitRequestParams, ElicitResult, ErrorData
from mcp_types.version import MODERN_PROTOCOL_VERSIONS


@dataclass
class LocalCall:
    """The local request a remote call belongs to (the SDK's per-call tool context)."""

    context: Any  # mcp.server.mcpserver.Context
    answers: tuple[str | None, dict[str, Any] | None] | None = None
    """What a 2026-07-28 retry hands the remote (its request state, the input responses); None: the local
    request's own. Set when mcpcloud used the local round itself (an approval) and must not pass it on."""

    @property
    def request_state(self) -> str | None:
        return self.context.request_state if self.answers is None else self.answers[0]

    @property
    def input_responses(self) -> dict[str, Any] | None:
        return self.context.input_responses if self.answers is None else self.answers[1]

    @property
    def modern(self) -> bool:
        """A 2026-07-28 local client takes questions as `input_required` results, not as requests."""
        return self.context.protocol_version in MODERN_PROTOCOL_VERSIONS

    async def progress(self, progress: float, total: float | None, message: str | None) -> None:
        await self.context.report_progress(progress, total, message)

    async def ask(self, params: ElicitRequestParams) -> ElicitResult | ErrorData:
        if self.modern:
            return ErrorData(
                code=INVALID_REQUEST,
                message="the local client speaks MCP 2026-07-28, which cannot take a question in the middle of a "
                "call from a handshake-era remote",
            )
        session = self.context.request_context.session
        return await session.send_request(
            ElicitRequest(params=params),
            ElicitResult,
            metadata=ServerMessageMetadata(related_request_id=self.context.request_context.request_id),
        )


current_call: contextvars.ContextVar[LocalCall | None] = contextvars.ContextVar("mcpcloud_remote_call", default=None)
"""Set while a remote call runs in this task: the SDK's input_required driver asks in the caller's task."""


class Questions:
    """The elicitation callback of one upstream connection: finds the local call a question belongs to."""

    def __init__(self, remote: str) -> None:
        self.remote = remote
        self.in_flight: dict[int, LocalCall] = {}

    async def __call__(self, context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult | ErrorData:
        call = current_call.get()
        if call is None:
            # A handshake-era question arrives on the connection, not in the call's task. With one call in
            # flight it can only be that call's; with several, guessing could show one caller's question
            # to another, so it is declined.
            calls = list(self.in_flight.values())
            if len(calls) != 1:
                return ErrorData(
                    code=INVALID_REQUEST,
                    message=f"mcpcloud cannot tell which of {len(calls)} calls to remote {self.remote!r} this question "
                    "belongs to; it was not shown to anyone",
                )
            call = calls[0]
        return await call.ask(params)
