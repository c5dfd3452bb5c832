"""Hybrid mode against real remotes: one local stdio server offering its own tools and the remote's."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp import Client
from tests.conftest import CONNECT_MODES

from tests.remotes.conftest import CloudRemote, LegacyRemote, hybrid_params, toml_remote

LOCAL = {"health_check", "echo", "get_time"}


async def wait_for_tools(client: Client, wanted: set[str], timeout: float = 20) -> set[str]:
    with anyio.fail_after(timeout):
        while True:
            names = {tool.name for tool in (await client.list_tools()).tools}
            if wanted <= names:
                return names
            await anyio.sleep(0.1)


def cloud_config(cloud: CloudRemote, **fields: str) -> str:
    return toml_remote("team", cloud.url, headers=f'{{ Authorization = "Bearer {cloud.key}" }}', **fields)


@pytest.mark.parametrize("mode", CONNECT_MODES)
async def test_local_and_remote_tools_in_one_list_and_both_callable(mode: str, tmp_path: Path, cloud: CloudRemote) -> None:
    async with Client(hybrid_params(tmp_path, cloud_config(cloud)), mode=mode) as client:
        names = await wait_for_tools(client, {"team_echo"})
        assert names == LOCAL | {"team_health_check", "team_echo", "team_get_time"}
        local = await client.call_tool("echo", {"message": "here"})
        remote = await client.call_tool("team_echo", {"message": "over there"})
        assert (local.content[0].text, remote.content[0].text) == ("here", "over there")
        assert not remote.is_error
        health = await client.call_tool("health_check", {})
        assert health.structured_content["packs"]["remotes.team"]["ready"] is True
        assert health.structured_content["packs"]["remotes.team"]["detail"].startswith("up, protocol 2026-07-28")
