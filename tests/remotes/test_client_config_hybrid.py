"""`client-config --stdio --remote` writes one entry that starts a hybrid server: local and remote tools."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from mcp import Client, StdioServerParameters
from tests.remotes.conftest import CloudRemote
from tests.remotes.test_hybrid import LOCAL, wait_for_tools

from mcpcloud.cli import main


@pytest.mark.parametrize("client_name", ["claude-desktop", "vscode", "cursor"])
async def test_written_hybrid_entry_lists_and_calls_local_and_remote_tools(
    client_name: str, tmp_path: Path, cloud: CloudRemote
) -> None:
    path = tmp_path / "client.json"
    result = CliRunner().invoke(
        main,
        [
            "client-config",
            client_name,
            "--stdio",
            "--remote",
            cloud.url,
            "--header",
            f"Authorization: Bearer {cloud.key}",
            "--write",
            "--path",
            str(path),
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "not implemented" not in result.stderr
    document = json.loads(path.read_text())
    entry = document["servers" if client_name == "vscode" else "mcpServers"]["mcpcloud"]
    # The pins of this test go to its own directory, not the user's state dir.
    env = {**entry["env"], "MCPCLOUD_STATE_DIR": str(tmp_path / "state")}
    async with Client(StdioServerParameters(command=entry["command"], args=entry["args"], env=env)) as client:
        names = await wait_for_tools(client, {"team_echo"})
        assert names == LOCAL | {"team_echo", "team_get_time", "team_health_check"}
        assert (await client.call_tool("echo", {"message": "local"})).content[0].text == "local"
        assert (await client.call_tool("team_echo", {"message": "remote"})).content[0].text == "remote"
