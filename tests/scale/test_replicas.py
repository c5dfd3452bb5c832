"""Any replica serves any request: the SDK client through a round-robin proxy over two replicas."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from tests.conftest import CONNECT_MODES
from tests.scale.conftest import SHARED_REDIS, Cluster, start_cluster, stop_cluster, unique_prefix
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


async def test_a_list_change_on_one_replica_reaches_a_listen_stream_on_the_other(cluster: Cluster) -> None:
    first, second = (replica.url for replica in cluster.replicas)
    async with (
        Client(first, mode="2026-07-28") as listener,
        Client(second, mode="2026-07-28") as trigger,
        listener.listen(tools_list_changed=True) as subscription,
    ):
        await trigger.call_tool("test_trigger_tool_change", {})
        with anyio.fail_after(10):
            event = await subscription.__anext__()
    assert type(event).__name__ == "ToolsListChanged"


async def test_a_legacy_notification_from_the_other_replica_reaches_the_get_stream(cluster: Cluster) -> None:
    received: list[str] = []
    arrived = anyio.Event()

    async def collect(message: Any) -> None:
        method = getattr(getattr(message, "root", message), "method", None)
        if method == "notifications/tools/list_changed":
            received.append(method)
            if len(received) == 2:
                arrived.set()

    async with Client(cluster.url, mode="legacy", message_handler=collect) as client:
        await anyio.sleep(0.5)  # the client opens its GET stream in the background
        for _ in range(2):  # alternating: one of the two calls runs on the replica without the stream
            assert (await client.call_tool("announce_tools_changed", {})).content[0].text == "announced"
        with anyio.fail_after(10):
            await arrived.wait()
    assert received == ["notifications/tools/list_changed"] * 2


async def test_the_client_carries_on_when_a_replica_dies_mid_session(tmp_path: Path) -> None:
    env = {"MCPCLOUD_REDIS__URL": SHARED_REDIS, "MCPCLOUD_REDIS__KEY_PREFIX": unique_prefix("kill")}
    doomed = start_cluster(tmp_path, env, "--packs", "core")
    try:
        for mode in ("legacy", "2026-07-28"):
            async with Client(doomed.url, mode=mode) as client:
                assert (await client.call_tool("echo", {"message": "before"})).content[0].text == "before"
                if mode == "legacy":
                    doomed.replicas[0].process.send_signal(signal.SIGKILL)
                    doomed.replicas[0].process.wait(10)
                for i in range(4):  # every call reaches the survivor (the proxy skips the dead one)
                    assert (await client.call_tool("echo", {"message": f"after {i}"})).content[0].text == f"after {i}"
    finally:
        stop_cluster(doomed)


async def test_a_cancellation_stops_the_call_on_whichever_replica_runs_it(cluster: Cluster, tmp_path: Path) -> None:
    async with Client(cluster.url, mode="legacy") as client:
        for attempt in range(2):  # the cancel is POSTed to the other replica at least once
            mark = tmp_path / f"mark-{attempt}"
            with pytest.raises(MCPError):
                await client.call_tool("sleep_then_mark", {"seconds": 3, "path": str(mark)}, read_timeout_seconds=1)
            await anyio.sleep(3.5)
            assert not mark.exists(), "the cancelled call ran to the end"
