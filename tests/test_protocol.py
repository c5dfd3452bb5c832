"""The SDK's own client drives mcpcloud over stdio and HTTP, in every connect mode."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from mcp import Client
from tests.conftest import CONNECT_MODES, RunningServer, stdio_params


@pytest.fixture(params=["stdio", "http"])
def target(request: pytest.FixtureRequest, http_server: RunningServer) -> Any:
    return stdio_params("--packs", "core") if request.param == "stdio" else http_server.url


@pytest.fixture(params=CONNECT_MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


async def test_lists_the_core_tools_with_schemas_and_annotations(target: Any, mode: str) -> None:
    async with Client(target, mode=mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert {"health_check", "echo", "get_time"} <= set(tools)
    for name in ("health_check", "echo", "get_time"):
        tool = tools[name]
        assert tool.description, name
        assert tool.input_schema["type"] == "object", name
        assert tool.output_schema is not None, name
        assert tool.annotations is not None and tool.annotations.read_only_hint is True, name
    assert tools["echo"].input_schema["required"] == ["message"]
    assert tools["get_time"].input_schema["properties"]["timezone"]["default"] == "UTC"


async def test_echo_returns_any_unicode_unchanged(target: Any, mode: str) -> None:
    message = "héllo, мир, 世界 🌍 \u200b tab\tnewline\n end"
    async with Client(target, mode=mode) as client:
        result = await client.call_tool("echo", {"message": message})
    assert result.is_error is False
    assert result.content[0].text == message
    assert result.structured_content == {"result": message}


async def test_get_time_in_a_named_zone(target: Any, mode: str) -> None:
    async with Client(target, mode=mode) as client:
        result = await client.call_tool("get_time", {"timezone": "Asia/Kolkata"})
    assert result.is_error is False
    report = result.structured_content
    assert report["timezone"] == "Asia/Kolkata" and report["utc_offset"] == "+05:30"
    parsed = datetime.fromisoformat(report["iso"])
    assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 5.5 * 3600
    assert abs(parsed.timestamp() - report["unix"]) < 1


async def test_health_check_reports_version_uptime_and_packs(target: Any, mode: str) -> None:
    async with Client(target, mode=mode) as client:
        result = await client.call_tool("health_check", {})
    report = result.structured_content
    assert report["status"] == "ok"
    assert report["version"]
    assert report["uptime_seconds"] >= 0


async def test_unknown_timezone_is_a_tool_error_naming_the_input(target: Any, mode: str) -> None:
    async with Client(target, mode=mode) as client:
        result = await client.call_tool("get_time", {"timezone": "Mars/Olympus_Mons"})
        after = await client.call_tool("echo", {"message": "still serving"})
    assert result.is_error is True
    assert "Mars/Olympus_Mons" in result.content[0].text
    assert "IANA" in result.content[0].text
    assert after.content[0].text == "still serving"


async def test_wrong_argument_type_is_a_tool_error_naming_the_field(target: Any, mode: str) -> None:
    async with Client(target, mode=mode) as client:
        wrong_type = await client.call_tool("echo", {"message": 42})
        missing = await client.call_tool("echo", {})
    for result in (wrong_type, missing):
        assert result.is_error is True
        assert "message" in result.content[0].text
    assert "string" in wrong_type.content[0].text
    assert "required" in missing.content[0].text.lower() or "missing" in missing.content[0].text.lower()


async def test_unknown_tool_is_an_error_naming_it(target: Any, mode: str) -> None:
    async with Client(target, mode=mode) as client:
        result = await client.call_tool("no_such_tool", {})
    assert result.is_error is True
    assert "no_such_tool" in result.content[0].text
