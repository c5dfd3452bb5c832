"""Caller mistakes get messages that name them, in both protocol eras (in-process client)."""

from __future__ import annotations

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from mcpcloud.config import load_settings
from mcpcloud.server import build


@pytest.fixture(params=["legacy", "2026-07-28"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def server():
    return build(load_settings(packs="core,conformance"))


async def test_unknown_prompt_is_invalid_params_naming_it(server, mode: str) -> None:
    async with Client(server.mcp, mode=mode) as client:
        with pytest.raises(MCPError) as raised:
            await client.get_prompt("no_such_prompt", {})
        ok = await client.get_prompt("test_simple_prompt", {})
    assert raised.value.code == INVALID_PARAMS
    assert "no_such_prompt" in raised.value.message
    assert ok.messages


async def test_missing_prompt_argument_is_named(server, mode: str) -> None:
    async with Client(server.mcp, mode=mode) as client:
        with pytest.raises(MCPError) as raised:
            await client.get_prompt("test_prompt_with_arguments", {"arg1": "a"})
    assert raised.value.code == INVALID_PARAMS
    assert "arg2" in raised.value.message
