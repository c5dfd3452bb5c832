"""A handshake-era remote's mid-call question, for a 2026-07-28 local client.

Such a client cannot take a request in the middle of a call: it takes questions as an
`input_required` result and answers them by calling again. So the remote call goes on in the
background, parked; its question is returned as `input_required` with a request state naming the
parked call (the SDK seals every request state we return, so it cannot be forged or moved to
another request), and the answer that comes with the retry is handed to the waiting remote.
A parked call whose answer does not come within the remote's `timeout_seconds` is told so.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import INVALID_REQUEST, ElicitRequest, ElicitRequestParams, ElicitResult, ErrorData, InputRequiredResult

from mcpcloud.remotes.relay import LocalCall

PREFIX = "mcpcloud-parked:"
QUESTION = "remote_question"


class _Exchange:
    def __init__(self) -> None:
        self.events_in, self.events = anyio.create_memory_object_stream[tuple[str, Any]](1)
        self.answers_in, self.answers = anyio.create_memory_object_stream[ElicitResult | ErrorData](1)
        self.scope = anyio.CancelScope()


class ParkedCall(LocalCall):
    """What the background remote call sees as its local caller: questions go through the exchange."""

    def __init__(self, context: Any, exchange: _Exchange, timeout: float) -> None:
        super().__init__(context)
        self.exchange = exchange
        self.timeout = timeout

    async def progress(self, progress: float, total: float | None, message: str | None) -> None:
        pass  # the first round's request is over; 2026-07-28 progress cannot outlive it

    async def ask(self, params: ElicitRequestParams) -> ElicitResult | ErrorData:
        await self.exchange.events_in.send(("question", params))
        with anyio.move_on_after(self.timeout):
            return await self.exchange.answers.receive()
        return ErrorData(code=INVALID_REQUEST, message=f"no answer from the user within {self.timeout:g} s")


class Parking:
    def __init__(self, remote: str, timeout: float) -> None:
        self.remote = remote
        self.timeout = timeout
        self.calls: dict[str, _Exchange] = {}
        self.task_group: anyio.abc.TaskGroup | None = None

    @staticmethod
    def resumes(state: str | None) -> bool:
        return bool(state and state.startswith(PREFIX))

    async def start(self, local: LocalCall, call: Callable[[LocalCall], Awaitable[Any]]) -> Any:
        if self.task_group is None:
            raise ToolError(f"remote {self.remote!r} is not connected yet; try again")
        token, exchange = PREFIX + secrets.token_urlsafe(18), _Exchange()
        self.calls[token] = exchange

        async def run() -> None:
            with exchange.scope:
                try:
                    outcome = ("done", await call(ParkedCall(local.context, exchange, self.timeout)))
                except Exception as exc:  # noqa: BLE001 - handed to whoever waits for this call
                    outcome = ("error", exc)
                await exchange.events_in.send(outcome)

        self.task_group.start_soon(run)
        return await self._next(token, exchange)

    async def resume(self, local: LocalCall) -> Any:
        token = local.request_state
        exchange = self.calls.get(token)
        if exchange is None:
            raise ToolError(
                "this answer is for a question that was already answered or has expired; call the tool again"
            )
        reply = (local.input_responses or {}).get(QUESTION)
        await exchange.answers_in.send(
            reply
            if isinstance(reply, ElicitResult)
            else ErrorData(code=INVALID_REQUEST, message="the retry did not carry an answer to the question")
        )
        return await self._next(token, exchange)

    async def _next(self, token: str, exchange: _Exchange) -> Any:
        try:
            with anyio.move_on_after(self.timeout) as waited:
                kind, value = await exchange.events.receive()
        except anyio.get_cancelled_exc_class():
            self._drop(token, exchange)  # the local caller gave up: so does the remote call
            raise
        if waited.cancelled_caught:
            self._drop(token, exchange)
            raise ToolError(f"remote {self.remote!r} did not answer within {self.timeout:g} s")
        if kind == "question":
            return InputRequiredResult(input_requests={QUESTION: ElicitRequest(params=value)}, request_state=token)
        self.calls.pop(token, None)
        if kind == "error":
            raise value
        return value

    def _drop(self, token: str, exchange: _Exchange) -> None:
        self.calls.pop(token, None)
        exchange.scope.cancel()
