"""`mcpcloud client-config`: each client's documented format, --write merging, and a real spawn."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from mcp import Client, StdioServerParameters
from tests.client_formats import SCHEMAS

from mcpcloud.cli import main
from mcpcloud.client_files import ClientFileError, default_config_path, write_client_config
from mcpcloud.clients import CLIENTS, REMOTE_HEADERS_ENV, REMOTE_URL_ENV, Target, banner, config_document

URL = "https://mcp.example.com/mcp"
API_KEY_HEADER = "Authorization: Bearer mk_test_123"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["client-config", *args])
    return result.exit_code, result.stdout, result.stderr


def entry_of(client: str, document: dict) -> dict:
    return document["servers" if client == "vscode" else "mcpServers"]["mcpcloud"]


@pytest.mark.parametrize("client", [c for c in CLIENTS if c != "claude-code"])
@pytest.mark.parametrize(
    "flags",
    [(), ("--url", URL, "--header", API_KEY_HEADER), ("--stdio", "--url", URL, "--header", API_KEY_HEADER)],
    ids=["local-stdio", "remote", "hybrid"],
)
def test_printed_document_matches_the_clients_documented_format(client: str, flags: tuple[str, ...]) -> None:
    code, out, _ = run(client, *flags)
    assert code == 0
    jsonschema.validate(json.loads(out), SCHEMAS[client])


@pytest.mark.parametrize("client", CLIENTS)
def test_local_stdio_spawns_mcpcloud_with_an_absolute_command(client: str) -> None:
    entry = entry_of(client, config_document(client, Target.local_stdio()))
    assert Path(entry["command"]).is_absolute()
    assert entry["args"] == ["serve", "--transport", "stdio"]


@pytest.mark.parametrize(
    "client,expected",
    [
        ("vscode", {"type": "http", "url": URL, "headers": {"Authorization": "Bearer mk_test_123"}}),
        ("cursor", {"url": URL, "headers": {"Authorization": "Bearer mk_test_123"}}),
        ("claude-code", {"type": "http", "url": URL, "headers": {"Authorization": "Bearer mk_test_123"}}),
    ],
)
def test_remote_entry_carries_the_api_key_header(client: str, expected: dict) -> None:
    target = Target(url=URL, headers={"Authorization": "Bearer mk_test_123"})
    assert entry_of(client, config_document(client, target)) == expected


def test_claude_desktop_remote_goes_through_mcp_remote_with_the_secret_in_env() -> None:
    code, out, _ = run("claude-desktop", "--url", URL, "--header", API_KEY_HEADER)
    entry = entry_of("claude-desktop", json.loads(out))
    assert entry["command"] == "npx"
    assert entry["args"] == ["-y", "mcp-remote", URL, "--header", "Authorization:${MCPCLOUD_HEADER_AUTHORIZATION}"]
    assert entry["env"] == {"MCPCLOUD_HEADER_AUTHORIZATION": "Bearer mk_test_123"}
    assert "mk_test_123" not in " ".join(entry["args"])


@pytest.mark.parametrize("client", CLIENTS)
def test_hybrid_is_one_local_entry_that_names_the_remote_in_env(client: str) -> None:
    target = Target.hybrid("mcpcloud", URL, {"Authorization": "Bearer mk_test_123"})
    entry = entry_of(client, config_document(client, target))
    assert entry["args"] == ["serve", "--transport", "stdio"]
    assert entry["env"][REMOTE_URL_ENV] == URL
    assert json.loads(entry["env"][REMOTE_HEADERS_ENV]) == {"Authorization": "Bearer mk_test_123"}
    jsonschema.validate(config_document(client, target), SCHEMAS[client])


def test_claude_code_prints_the_claude_mcp_add_command() -> None:
    _, local, _ = run("claude-code")
    assert local.startswith("claude mcp add mcpcloud -- /") and local.rstrip().endswith("serve --transport stdio")
    _, remote, _ = run("claude-code", "--url", URL, "--header", API_KEY_HEADER)
    assert (
        remote.strip() == f"claude mcp add --transport http mcpcloud {URL} --header 'Authorization: Bearer mk_test_123'"
    )
    _, hybrid, warning = run("claude-code", "--stdio", "--remote", URL)
    assert hybrid.startswith(f"claude mcp add --env {REMOTE_URL_ENV}={URL} mcpcloud -- /")
    assert warning == ""


def test_banner_still_lists_the_paste_ready_configs() -> None:
    text = banner("http://127.0.0.1:8000/mcp")
    assert "claude mcp add --transport http mcpcloud http://127.0.0.1:8000/mcp" in text
    assert '{"servers": {"mcpcloud": {"type": "http", "url": "http://127.0.0.1:8000/mcp"}}}' in text


@pytest.mark.parametrize(
    "args,message",
    [
        (("vscode", "--header", "Authorization"), "is not 'Name: value'"),
        (("vscode", "--url", URL, "--header", ": x"), "is not 'Name: value'"),
        (("vscode", "--header", API_KEY_HEADER), "--header needs --url"),
        (("vscode", "--url", "ftp://example.com"), "is not an http:// or https:// URL"),
        (("vscode", "--name", "9 lives"), "use a letter, then letters"),
        (("vscode", "--path", "x.json"), "--path is only used with --write"),
        (("emacs",), "'emacs' is not one of 'claude-desktop'"),
    ],
)
def test_bad_input_is_named_and_exits_2(args: tuple[str, ...], message: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert message in err
    assert out == ""


# --- --write ---------------------------------------------------------------------------------

EXISTING = {
    "globalShortcut": "Ctrl+Space",
    "mcpServers": {"filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]}},
}


@pytest.mark.parametrize("client", CLIENTS)
def test_write_creates_the_file_in_the_documented_format(client: str, tmp_path: Path) -> None:
    path = tmp_path / "nested" / "config.json"
    code, _, err = run(client, "--url", URL, "--header", API_KEY_HEADER, "--write", "--path", str(path))
    assert code == 0, err
    assert f"added server 'mcpcloud' in {path}" in err
    jsonschema.validate(json.loads(path.read_text()), SCHEMAS[client])
    assert path.stat().st_mode & 0o777 == 0o600  # it may hold an API key
    assert list(path.parent.iterdir()) == [path]  # no backup of a file that did not exist


def test_write_keeps_existing_servers_and_settings_and_backs_up_first(tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    original = json.dumps(EXISTING, indent=4)
    path.write_text(original)
    path.chmod(0o644)
    code, _, err = run("claude-desktop", "--write", "--path", str(path))
    assert code == 0, err
    written = json.loads(path.read_text())
    assert written["globalShortcut"] == "Ctrl+Space"
    assert written["mcpServers"]["filesystem"] == EXISTING["mcpServers"]["filesystem"]
    assert written["mcpServers"]["mcpcloud"]["args"] == ["serve", "--transport", "stdio"]
    backups = list(tmp_path.glob("claude_desktop_config.json.*.bak"))
    assert len(backups) == 1 and backups[0].read_text() == original
    assert f"previous file kept as {backups[0]}" in err
    assert path.stat().st_mode & 0o777 == 0o644  # the user's mode is kept


def test_write_replaces_an_entry_of_the_same_name_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    first = write_client_config(
        path, "cursor", Target(url="http://old.example/mcp"), now=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert first.replaced is False and first.backup is None
    second = write_client_config(path, "cursor", Target(url=URL), now=datetime(2026, 1, 2, tzinfo=UTC))
    assert second.replaced is True
    assert second.backup == tmp_path / "mcp.json.20260102T000000000000Z.bak"
    assert json.loads(path.read_text()) == {"mcpServers": {"mcpcloud": {"url": URL}}}
    assert json.loads(second.backup.read_text()) == {"mcpServers": {"mcpcloud": {"url": "http://old.example/mcp"}}}


@pytest.mark.parametrize(
    "content,message",
    [
        ('{"servers": {}, // a comment\n}', "not plain JSON (line 1, column 17"),
        ("[1, 2]", "the top level is a list, expected an object"),
        ('{"servers": []}', "'servers' is a list, expected an object of servers"),
    ],
)
def test_write_refuses_a_file_it_cannot_merge_and_leaves_it_unchanged(
    content: str, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(content)
    code, _, err = run("vscode", "--write", "--path", str(path))
    assert code == 1
    assert message in err
    assert path.read_text() == content
    assert list(tmp_path.iterdir()) == [path]


def test_write_error_is_the_library_error_too(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text("{")
    with pytest.raises(ClientFileError, match="mcp.json: not plain JSON"):
        write_client_config(path, "vscode", Target.local_stdio())


@pytest.mark.parametrize(
    "client,platform,environ,expected",
    [
        ("claude-desktop", "darwin", {}, "/home/u/Library/Application Support/Claude/claude_desktop_config.json"),
        ("claude-desktop", "win32", {"APPDATA": "/appdata"}, "/appdata/Claude/claude_desktop_config.json"),
        ("claude-desktop", "linux", {}, "/home/u/.config/Claude/claude_desktop_config.json"),
        ("claude-desktop", "linux", {"XDG_CONFIG_HOME": "/xdg"}, "/xdg/Claude/claude_desktop_config.json"),
        ("claude-code", "linux", {}, "/work/project/.mcp.json"),
        ("vscode", "darwin", {}, "/work/project/.vscode/mcp.json"),
        ("cursor", "win32", {}, "/home/u/.cursor/mcp.json"),
    ],
)
def test_default_paths_are_where_each_client_looks(client, platform, environ, expected) -> None:
    path = default_config_path(
        client, home=Path("/home/u"), cwd=Path("/work/project"), platform=platform, environ=environ
    )
    assert path == Path(expected)


async def test_a_written_local_config_really_starts_a_server_the_sdk_client_can_call(tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    code, _, err = run("claude-desktop", "--write", "--path", str(path))
    assert code == 0, err
    entry = json.loads(path.read_text())["mcpServers"]["mcpcloud"]
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env=entry.get("env"))
    async with Client(params) as client:
        result = await client.call_tool("echo", {"message": "from the written config"})
    assert result.is_error is False
    assert result.content[0].text == "from the written config"


async def test_server_config_is_passed_absolute_so_the_spawned_server_serves_its_packs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "shop.db"
    (tmp_path / "mcpcloud.toml").write_text(
        f'packs = ["core", "sql"]\n[pack.sql.databases.shop]\nurl = "sqlite:///{database}"\n'
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run("claude-desktop", "--server-config", "mcpcloud.toml")
    assert code == 0, err
    entry = entry_of("claude-desktop", json.loads(out))
    assert entry["args"][-2:] == ["--config", str(tmp_path / "mcpcloud.toml")]
    with sqlite3.connect(database) as db:
        db.execute("create table items (name text)")
        db.execute("insert into items values ('kettle')")
    params = StdioServerParameters(command=entry["command"], args=entry["args"], cwd="/")
    async with Client(params) as client:
        result = await client.call_tool("query", {"sql": "select name from items"})
    assert result.is_error is False, result.content
    assert result.structured_content["rows"] == [["kettle"]]


def test_server_config_with_a_remote_only_entry_is_refused() -> None:
    code, _, err = run("vscode", "--url", URL, "--server-config", __file__)
    assert code == 2
    assert "--server-config configure a local server; with --url add --stdio" in err
