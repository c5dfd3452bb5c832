"""A handshake-era remote's question goes to the one call it can belong to, and to no one when that is unclear."""

from __future__ import annotations

from typing import Any

from mcp_types import ElicitRequestFormParams, ElicitResult, ErrorData

from mcpcloud.remotes.relay import LocalCall, Questions, current_call


class Recorded(LocalCall):
    def __init__(self, name: str, asked: list[str]) -> None:
        super().__init__(context=None)
        self.name = name
        self.asked = asked

    async def ask(self, params: Any) -> ElicitResult | ErrorData:
        self.asked.append(self.name)
        return ElicitResult(action="accept", content={"who": self.name})


PARAMS = ElicitRequestFormParams(message="Which?", requested_schema={"type": "object"})


async def test_one_call_in_flight_gets_the_question() -> None:
    asked: list[str] = []
    questions = Questions("team")
    questions.in_flight[1] = Recorded("alice", asked)
    answer = await questions(None, PARAMS)  # type: ignore[arg-type]
    assert isinstance(answer, ElicitResult) and asked == ["alice"]


async def test_with_several_calls_in_flight_nobody_sees_the_question() -> None:
    asked: list[str] = []
    questions = Questions("team")
    questions.in_flight[1] = Recorded("alice", asked)
    questions.in_flight[2] = Recorded("bob", asked)
    answer = await questions(None, PARAMS)  # type: ignore[arg-type]
    assert isinstance(answer, ErrorData)
    assert "cannot tell which of 2 calls to remote 'team'" in answer.message and asked == []


async def test_a_question_asked_inside_a_call_goes_to_that_call() -> None:
    asked: list[str] = []
    questions = Questions("team")
    questions.in_flight[1] = Recorded("alice", asked)
    bob = Recorded("bob", asked)
    questions.in_flight[2] = bob
    token = current_call.set(bob)  # a 2026-07-28 round is driven in the calling task
    try:
        await questions(None, PARAMS)  # type: ignore[arg-type]
    finally:
        current_call.reset(token)
    assert asked == ["bob"]
