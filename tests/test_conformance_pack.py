"""The conformance pack's fixtures, driven over HTTP by the SDK's own client in both protocol eras.

The suite checks shapes on the wire; these tests check that a real client gets the
values out, that the round trips (elicitation, sampling, input-required rounds) complete
with the SDK's client machinery, and that each era's tools refuse the other era clearly.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import (
    CreateMessageResult,
    ElicitResult,
    LoggingMessageNotificationParams,
    PromptReference,
    ResourceTemplateReference,
    TextContent,
)
from tests.conftest import RunningServer

MODERN = "2026-07-28"
ERAS = ["legacy", MODERN]


@pytest.fixture(scope="module")
def url(conformance_server: RunningServer) -> str:
    return conformance_server.url


@pytest.fixture(params=ERAS)
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


class Answers:
    """An elicitation callback that accepts every form with the same content and records what was asked."""

    def __init__(self, **content: Any) -> None:
        self.content = content
        self.asked: list[str] = []

    async def __call__(self, _context: Any, params: Any) -> ElicitResult:
        self.asked.append(params.message)
        return ElicitResult(action="accept", content=self.content)


async def llm(_context: Any, params: Any) -> CreateMessageResult:
    question = params.messages[0].content.text
    return CreateMessageResult(role="assistant", content=TextContent(type="text", text=f"echo: {question}"), model="m")


async def test_content_tools_return_decodable_media(url: str, mode: str) -> None:
    async with Client(url, mode=mode) as client:
        image = (await client.call_tool("test_image_content", {})).content[0]
        audio = (await client.call_tool("test_audio_content", {})).content[0]
        mixed = (await client.call_tool("test_multiple_content_types", {})).content
    assert image.mime_type == "image/png" and base64.b64decode(image.data).startswith(b"\x89PNG\r\n\x1a\n")
    wav = base64.b64decode(audio.data)
    assert audio.mime_type == "audio/wav" and wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    assert [block.type for block in mixed] == ["text", "image", "resource"]
    assert json.loads(mixed[2].resource.text) == {"test": "data", "value": 123}


async def test_error_tool_says_what_went_wrong(url: str, mode: str) -> None:
    async with Client(url, mode=mode) as client:
        result = await client.call_tool("test_error_handling", {})
    assert result.is_error is True
    assert "intentionally returns an error" in result.content[0].text


async def test_resources_and_the_template_substitute(url: str, mode: str) -> None:
    async with Client(url, mode=mode) as client:
        listed = {str(resource.uri) for resource in (await client.list_resources()).resources}
        binary = (await client.read_resource("test://static-binary")).contents[0]
        templated = (await client.read_resource("test://template/7/data")).contents[0]
    assert {"test://static-text", "test://static-binary", "test://watched-resource"} <= listed
    assert binary.mime_type == "image/png" and base64.b64decode(binary.blob).startswith(b"\x89PNG")
    assert templated.mime_type == "application/json"
    assert json.loads(templated.text) == {"id": "7", "templateTest": True, "data": "Data for ID: 7"}


async def test_prompts_substitute_arguments_and_embed(url: str, mode: str) -> None:
    async with Client(url, mode=mode) as client:
        with_args = await client.get_prompt("test_prompt_with_arguments", {"arg1": "héllo", "arg2": "世界"})
        embedded = await client.get_prompt("test_prompt_with_embedded_resource", {"resourceUri": "test://x"})
    assert with_args.messages[0].content.text == "Prompt with arguments: arg1='héllo', arg2='世界'"
    assert str(embedded.messages[0].content.resource.uri) == "test://x"


async def test_completion_offers_matching_values(url: str, mode: str) -> None:
    async with Client(url, mode=mode) as client:
        prompt = await client.complete(
            PromptReference(type="ref/prompt", name="test_prompt_with_arguments"), {"name": "arg1", "value": "pa"}
        )
        template = await client.complete(
            ResourceTemplateReference(type="ref/resource", uri="test://template/{id}/data"),
            {"name": "id", "value": "12"},
        )
    assert prompt.completion.values == ["paris", "park", "party"]
    assert template.completion.values == ["123"]


async def test_legacy_elicitation_and_sampling_round_trips(url: str) -> None:
    elicitation = Answers(username="ada", email="ada@example.com")
    async with Client(url, mode="legacy", elicitation_callback=elicitation, sampling_callback=llm) as client:
        elicited = await client.call_tool("test_elicitation", {"message": "Who are you?"})
        sampled = await client.call_tool("test_sampling", {"prompt": "2+2?"})
    assert elicitation.asked == ["Who are you?"]
    assert (
        elicited.content[0].text == 'User response: action=accept, content={"username":"ada","email":"ada@example.com"}'
    )
    assert sampled.content[0].text == "LLM response: echo: 2+2?"


async def test_progress_is_reported_in_steps(url: str, mode: str) -> None:
    steps: list[tuple[float, float | None]] = []

    async def record(progress: float, total: float | None, _message: str | None) -> None:
        steps.append((progress, total))

    async with Client(url, mode=mode) as client:
        result = await client.call_tool("test_tool_with_progress", {}, progress_callback=record)
    assert steps == [(0, 100), (50, 100), (100, 100)]
    assert result.content[0].text == "Completed 100 of 100 steps"


@pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")  # logging/setLevel is legacy-era
async def test_legacy_log_notifications_follow_set_level(url: str) -> None:
    received: list[LoggingMessageNotificationParams] = []

    async def collect(params: LoggingMessageNotificationParams) -> None:
        received.append(params)

    async with Client(url, mode="legacy", logging_callback=collect) as client:
        await client.set_logging_level("warning")
        await client.call_tool("test_tool_with_logging", {})
        assert received == []  # info is below warning
        await client.set_logging_level("info")
        await client.call_tool("test_tool_with_logging", {})
    assert [entry.data for entry in received] == [
        "Tool execution started",
        "Tool processing data",
        "Tool execution completed",
    ]


async def test_input_required_rounds_complete_through_the_sdk_client(url: str) -> None:
    elicitation = Answers(name="Ada", color="teal", context="the docs")
    async with Client(url, mode=MODERN, elicitation_callback=elicitation, sampling_callback=llm) as client:
        greeted = await client.call_tool("test_input_required_result_elicitation", {})
        two_rounds = await client.call_tool("test_input_required_result_multi_round", {})
        sampled = await client.call_tool("test_input_required_result_sampling", {})
        prompt = await client.get_prompt("test_input_required_result_prompt", {})
    assert greeted.content[0].text == "Hello, Ada!"
    assert two_rounds.content[0].text == "Ada's favorite color is teal"
    assert elicitation.asked == [
        "What is your name?",
        "Step 1: What is your name?",
        "Step 2: What is your favorite color?",
        "What context should the prompt use?",
    ]
    assert sampled.content[0].text == "LLM response: echo: What is the capital of France?"
    assert prompt.messages[0].content.text == "Answer using this context: the docs"


async def test_input_required_needs_the_declared_capability(url: str) -> None:
    async with Client(url, mode=MODERN) as client:  # no elicitation callback: the capability is not declared
        with pytest.raises(MCPError) as refused:
            await client.call_tool("test_input_required_result_elicitation", {})
    assert refused.value.error.code == -32021
    assert "elicitation" in refused.value.error.message


async def test_each_era_refuses_the_other_eras_round_trip_tools(url: str) -> None:
    async with Client(url, mode="legacy") as legacy:
        modern_tool = await legacy.call_tool("test_input_required_result_elicitation", {})
    async with Client(url, mode=MODERN) as modern:
        legacy_tool = await modern.call_tool("test_elicitation", {"message": "hi"})
    assert modern_tool.is_error and "2026-07-28" in modern_tool.content[0].text
    assert legacy_tool.is_error and "test_input_required_result_elicitation" in legacy_tool.content[0].text
