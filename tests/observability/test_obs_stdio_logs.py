"""On stdio, a request's log lines go to stderr and name the method, tool and local principal."""

from __future__ import annotations

import json
import os

from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from obs_helpers import MCPCLOUD


async def test_stdio_request_logs_name_the_request(tmp_path) -> None:
    errlog_path = tmp_path / "stderr.log"
    params = StdioServerParameters(
        command=MCPCLOUD,
        args=["serve", "--transport", "stdio"],
        env={**os.environ, "MCPCLOUD_LOG__FORMAT": "json"},
        cwd=str(tmp_path),
    )
    with errlog_path.open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            result = await client.call_tool("get_time", {"timezone": "Moon/Base"})
    assert result.is_error is True
    lines = [json.loads(line) for line in errlog_path.read_text().splitlines() if line.startswith("{")]
    [failure] = [line for line in lines if "get_time" in line.get("event", "") and "failed" in line["event"]]
    assert failure["tool"] == "get_time" and failure["mcp_method"] == "tools/call"
    assert failure["principal"] == "local:local" and isinstance(failure["jsonrpc_id"], int)
    assert "trace_id" not in failure  # tracing is off by default
