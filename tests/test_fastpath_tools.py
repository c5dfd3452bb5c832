"""The fast path's prepared tools give the SDK's own wire result, and take the text shortcut only when it is exact."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import pytest
from mcp.server.connection import Connection
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.runner import ServerRunner
from mcp_types import CallToolRequestParams
from mcp_types.version import LATEST_MODERN_VERSION
from pydantic import Field

from mcpcloud.fastpath.lists import ListResults
from mcpcloud.fastpath.tools import FastTool, FastTools

TEXTS = ["hello", "", "héllo ✓ 🎉", "x" * 10_000, '{"looks": "like json"}', "line\nbreak\ttab"]


def server() -> MCPServer[Any]:
    mcp: MCPServer[Any] = MCPServer("t")

    @mcp.tool()
    async def echo(message: str) -> str:
        return message

    @mcp.tool()
    async def short(message: str) -> Annotated[str, Field(max_length=5)]:
        return message

    @mcp.tool(structured_output=False)
    def plain(message: str) -> str:  # sync: the worker-thread hop, as the SDK does
        return message

    return mcp


async def sdk_answer(mcp: MCPServer[Any], runner: ServerRunner[Any], name: str, text: str) -> dict[str, Any]:
    """What the SDK's own `tools/call` handler returns for the call, shaped by its runner."""
    ctx = ServerRequestContext(
        session=None, lifespan_context={}, protocol_version=LATEST_MODERN_VERSION, method="tools/call"
    )  # type: ignore[arg-type]
    result = await mcp._handle_call_tool(ctx, CallToolRequestParams(name=name, arguments={"message": text}))
    return runner._serialize("tools/call", LATEST_MODERN_VERSION, result)


@pytest.mark.anyio
@pytest.mark.parametrize("name", ["echo", "short", "plain"])
async def test_every_text_gets_the_sdk_answer(name: str) -> None:
    mcp = server()
    runner = ServerRunner(mcp._lowlevel_server, Connection.from_envelope(LATEST_MODERN_VERSION, None, None), None)
    shape = partial(runner._serialize, "tools/call", LATEST_MODERN_VERSION)
    tool = FastTool(mcp._tool_manager.get_tool(name))
    for text in TEXTS:
        fast = await tool.call({"message": text}, LATEST_MODERN_VERSION, shape)
        sdk = await sdk_answer(mcp, runner, name, text)
        if name == "short" and len(text) > 5:  # the SDK validated the declared output and refused it
            assert sdk["isError"] is True and fast == sdk
        else:
            assert fast == sdk, text
    # The shortcut is taken where it is exact, never for a constrained output.
    assert (LATEST_MODERN_VERSION in tool._text_templates) == (name != "short")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_lists_are_shaped_again_when_the_tool_set_changes() -> None:
    mcp = server()
    tools = FastTools(mcp._tool_manager._tools)
    lists = ListResults()
    runner = ServerRunner(mcp._lowlevel_server, Connection.from_envelope(LATEST_MODERN_VERSION, None, None), None)
    ctx = ServerRequestContext(
        session=None, lifespan_context={}, protocol_version=LATEST_MODERN_VERSION, method="tools/list"
    )  # type: ignore[arg-type]
    shaped_count = 0

    async def shape(method: str, ctx: Any) -> dict[str, Any]:
        nonlocal shaped_count
        shaped_count += 1
        listed = await mcp._handle_list_tools(ctx, None)
        return runner._serialize(method, ctx.protocol_version, listed)

    first = await lists.shaped("tools/list", ctx, tools.current(), shape)
    again = await lists.shaped("tools/list", ctx, tools.current(), shape)
    assert again is first and shaped_count == 1
    assert lists.encoded(first) is lists.encoded(again)  # encoded once, kept

    @mcp.tool()
    async def added(x: int) -> int:
        return x

    after = await lists.shaped("tools/list", ctx, tools.current(), shape)
    assert shaped_count == 2 and "added" in tools.current()
    assert [t["name"] for t in after["tools"]] == [t["name"] for t in first["tools"]] + ["added"]
    assert b'"added"' in lists.encoded(after)

    mcp.remove_tool("added")
    assert "added" not in tools.current()
    assert [t["name"] for t in (await lists.shaped("tools/list", ctx, tools.current(), shape))["tools"]] == [
        t["name"] for t in first["tools"]
    ]


def test_a_tool_with_its_own_run_is_left_to_the_sdk() -> None:
    """A Tool subclass that runs differently (a remote tool forwards the call) is never called directly."""
    mcp = server()
    plain = mcp._tool_manager.get_tool("echo")

    class Forwarding(type(plain)):  # type: ignore[misc]
        async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
            raise AssertionError("not on the fast path")

    mcp._tool_manager._tools["forwarded"] = Forwarding(**{**plain.__dict__, "name": "forwarded"})
    prepared = FastTools(mcp._tool_manager._tools).current()
    assert "echo" in prepared and "forwarded" not in prepared
