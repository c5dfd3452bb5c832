"""What flows back from a 2026-07-28 remote: input_required rounds and list changes over subscriptions/listen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp_types import ElicitResult
from tests.remotes.conftest import CloudRemote, LegacyRemote, hybrid_params, toml_remote
from tests.remotes.test_hybrid import wait_for_tools

ANSWERS = {"Step 1: What is your name?": {"name": "Ada"}, "Step 2: What is your favorite color?": {"color": "blue"}}


def _config(cloud: CloudRemote) -> str:
    return toml_remote(
        "team",
        cloud.url,
        headers=f'{{ Authorization = "Bearer {cloud.key}" }}',
        tools='["test_input_required_result_multi_round", "echo"]',
    )


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_multi_round_questions_reach_the_local_client_and_answers_go_back(
    mode: str, tmp_path: Path, conformance_cloud: CloudRemote
) -> None:
    asked: list[str] = []

    async def answer(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content=ANSWERS[params.message])

    async with Client(
        hybrid_params(tmp_path, _config(conformance_cloud)), mode=mode, elicitation_callback=answer
    ) as client:
        await wait_for_tools(client, {"team_test_input_required_result_multi_round"})
        result = await client.call_tool("team_test_input_required_result_multi_round", {})
        assert not result.is_error, result.content
        assert result.content[0].text == "Ada's favorite color is blue"
        assert asked == list(ANSWERS)


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_a_list_change_on_a_2026_remote_reaches_the_local_client(
    mode: str, tmp_path: Path, sdk_both_eras: LegacyRemote
) -> None:
    config = toml_remote(
        "new", sdk_both_eras.url, token_file=f'"{sdk_both_eras.token_file}"', exclude_tools='["*_hidden"]'
    )
    async with Client(hybrid_params(tmp_path, config), mode=mode) as client:
        await wait_for_tools(client, {"new_add_tool"})
        health = (await client.call_tool("health_check", {})).structured_content
        assert health["packs"]["remotes.new"]["detail"].startswith("up, protocol 2026-07-28")
        if mode == "2026-07-28":
            # A 2026-07-28 local client hears of the change on its own subscriptions/listen stream.
            async with client.listen(tools_list_changed=True) as subscription:
                await client.call_tool("new_add_tool", {"name": "later"})
                with anyio.fail_after(15):
                    async for _event in subscription:
                        break
        else:
            await client.call_tool("new_add_tool", {"name": "later"})
        await client.call_tool("new_add_tool", {"name": "later_hidden"})
        names = await wait_for_tools(client, {"new_later"})
        assert "new_later_hidden" not in names
        assert (await client.call_tool("new_later", {})).content[0].text == "later here"


async def test_the_remote_list_is_cached_for_its_advertised_ttl(
    tmp_path: Path, sdk_with_list_ttl: LegacyRemote
) -> None:
    remote = sdk_with_list_ttl
    config = toml_remote("new", remote.url, token_file=f'"{remote.token_file}"')
    async with Client(hybrid_params(tmp_path, config), mode="legacy") as client:
        await wait_for_tools(client, {"new_add_tool_quietly"})
        lists_before = remote.event_lines().count("tools/list")
        for _ in range(10):  # local listings are served from the cached remote list
            await client.list_tools()
        assert remote.event_lines().count("tools/list") - lists_before <= 1
        # A tool added without a change signal shows up once the advertised 1.5 s have passed.
        await client.call_tool("new_add_tool_quietly", {"name": "quiet"})
        names = await wait_for_tools(client, {"new_quiet"}, timeout=10)
        assert "new_quiet" in names
