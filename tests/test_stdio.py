"""On stdio, standard output carries protocol messages only; logs go to standard error."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from tests.conftest import MCPCLOUD, ROOT, server_env


def exchange(process: subprocess.Popen[str], line: str) -> dict[str, Any]:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(line + "\n")
    process.stdin.flush()
    return json.loads(process.stdout.readline())


def test_stdout_carries_only_json_rpc_even_with_debug_logging() -> None:
    process = subprocess.Popen(
        [MCPCLOUD, "serve", "--transport", "stdio", "--log-level", "DEBUG"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=server_env(),
        cwd=ROOT,
    )
    try:
        init = exchange(
            process,
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {
                        "protocolVersion": "2025-11-25",
                        "capabilities": {},
                        "clientInfo": {"name": "raw", "version": "1"},
                    },
                }
            ),
        )
        assert init["result"]["serverInfo"]["name"] == "mcpcloud"
        process.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
        echo = exchange(
            process,
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 2,
                    "method": "tools/call",
                    "params": {"name": "echo", "arguments": {"message": "one"}},
                }
            ),
        )
        assert echo["result"]["content"][0]["text"] == "one"
        bad_zone = exchange(
            process,
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 3,
                    "method": "tools/call",
                    "params": {"name": "get_time", "arguments": {"timezone": "Nowhere/Void"}},
                }
            ),
        )
        assert bad_zone["result"]["isError"] is True
        assert "Nowhere/Void" in bad_zone["result"]["content"][0]["text"]
        unknown = exchange(process, json.dumps({"jsonrpc": "2.0", "id": 4, "method": "no/such/method"}))
        assert unknown["error"]["code"] == -32601
        garbage = exchange(process, "this is not json")
        assert garbage["error"]["code"] == -32700
        assert "not valid JSON" in garbage["error"]["message"]
        not_a_message = exchange(process, json.dumps({"jsonrpc": "2.0", "id": 7}))
        assert not_a_message["error"]["code"] == -32600
        after = exchange(
            process,
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 5,
                    "method": "tools/call",
                    "params": {"name": "echo", "arguments": {"message": "two"}},
                }
            ),
        )
        assert after["result"]["content"][0]["text"] == "two"
    finally:
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert stdout == "", "nothing but responses on stdout"
    assert '"level": "debug"' in stderr, "logs go to stderr"
