"""`mcpcloud client-config claude-desktop --packs core,filesystem,shell --root DIR` writes an entry that
really starts a server serving both packs on DIR (and nothing beyond it)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from local_helpers import Sandbox, text_of
from mcp import Client, StdioServerParameters

from mcpcloud.cli import main


def client_config(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["client-config", *args])
    return result.exit_code, result.stdout, result.stderr


async def test_a_written_entry_serves_both_packs_on_the_directory(
    sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("client")  # not in the sandbox, whose outside must stay unchanged
    path = elsewhere / "claude_desktop_config.json"
    path.write_text(json.dumps({"mcpServers": {"other": {"command": "x"}}}))
    code, _, err = client_config(
        "claude-desktop",
        "--packs",
        "core,filesystem,shell",
        "--root",
        str(sandbox.root),
        "--name",
        "local",
        "--write",
        "--path",
        str(path),
    )
    assert code == 0, err
    servers = json.loads(path.read_text())["mcpServers"]
    assert set(servers) == {"other", "local"}, "the other entries are kept"
    entry = servers["local"]
    assert entry["args"][-2:] == ["--packs", "core,filesystem,shell"]
    assert json.loads(entry["env"]["MCPCLOUD_PACK__SHELL__ROOTS"]) == [str(sandbox.root.resolve())]
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env=entry["env"], cwd=str(elsewhere))
    async with Client(params) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        read = await client.call_tool("read_text_file", {"path": "hello.txt"})
        listed = await client.call_tool("run_command", {"argv": ["ls"]})
        outside = await client.call_tool("read_text_file", {"path": str(sandbox.outside / "secret.txt")})
    assert {"read_text_file", "run_command", "echo"} <= names and "write_file" not in names
    assert text_of(read) == "hello\n" and "hello.txt" in listed.structured_content["stdout"]
    assert outside.is_error
    sandbox.assert_untouched(text_of(outside))


@pytest.mark.parametrize(
    "args,message",
    [
        (["--packs", "core,filesystem"], "needs --root DIR"),
        (["--root", "."], "add them to --packs"),
        (["--packs", "filesystem", "--root", "/no/such/dir"], "is not an existing directory"),
        (
            ["--packs", "shell", "--root", ".", "--url", "https://mcp.example.com/mcp"],
            "with --url add --stdio (hybrid)",
        ),
    ],
)
def test_local_pack_options_misused_say_what_to_do(args: list[str], message: str) -> None:
    code, out, err = client_config("claude-desktop", *args)
    assert code == 2 and message in err and out == ""


def test_a_hybrid_entry_can_serve_the_local_packs_too(sandbox: Sandbox) -> None:
    code, out, err = client_config(
        "claude-desktop",
        "--stdio",
        "--remote",
        "https://mcp.example.com/mcp",
        "--packs",
        "core,filesystem",
        "--root",
        str(sandbox.root),
    )
    assert code == 0, err
    entry = json.loads(out)["mcpServers"]["mcpcloud"]
    assert entry["args"][-2:] == ["--packs", "core,filesystem"]
    assert json.loads(entry["env"]["MCPCLOUD_PACK__FILESYSTEM__ROOTS"]) == [str(sandbox.root.resolve())]
    assert "https://mcp.example.com/mcp" in entry["env"].values()
