"""Any replica serves any request: the SDK client through a round-robin proxy over two replicas."""

from __future__ import annotations

import pytest
from mcp import Client

from tests.conftest import CONNECT_MODES
from tests.scale.conftest import Cluster
from tests.test_conformance_pack import Answers, llm


@pytest.fixture(params=CONNECT_MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


async def test_tools_resources_and_prompts_through_the_proxy(cluster: Cluster, mode: str) -> None:
    async with Client(cluster.url, mode=mode) as client:
        for i in range(6):  # alternating replicas, every call must land
            result = await client.call_tool("echo", {"message": f"hello {i}"})
            assert result.content[0].text == f"hello {i}"
        tools = {tool.name for tool in (await client.list_tools()).tools}
        text = (await client.read_resource("test://static-text")).contents[0]
        prompt = await client.get_prompt("test_prompt_with_arguments", {"arg1": "a", "arg2": "b"})
    assert {"echo", "test_elicitation"} <= tools
    assert text.text
    assert prompt.messages[0].content.text == "Prompt with arguments: arg1='a', arg2='b'"


async def test_legacy_elicitation_and_sampling_round_trip_across_replicas(cluster: Cluster) -> None:
    elicitation = Answers(username="ada", email="ada@example.com")
    async with Client(cluster.url, mode="legacy", elicitation_callback=elicitation, sampling_callback=llm) as client:
        for _ in range(2):  # the answer is POSTed to the other replica at least once
            elicited = await client.call_tool("test_elicitation", {"message": "Who are you?"})
            assert elicited.content[0].text.startswith("User response: action=accept")
        sampled = await client.call_tool("test_sampling", {"prompt": "2+2?"})
    assert sampled.content[0].text == "LLM response: echo: 2+2?"


async def test_multi_round_request_state_across_replicas(cluster: Cluster) -> None:
    elicitation = Answers(name="Ada", color="teal", context="the docs")
    async with Client(cluster.url, mode="2026-07-28", elicitation_callback=elicitation) as client:
        for _ in range(3):
            two_rounds = await client.call_tool("test_input_required_result_multi_round", {})
            assert two_rounds.content[0].text == "Ada's favorite color is teal"
