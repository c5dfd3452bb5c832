"""`[remotes.*]` settings: mistakes are named with their fix, and secrets never shown."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from mcpcloud.cli import main


def _run(*args: str, config: str, tmp_path: Path) -> tuple[int, str, str]:
    path = tmp_path / "config.toml"
    path.write_text(config)
    clean = {k: None for k in os.environ if k.startswith("MCPCLOUD_")}
    result = CliRunner().invoke(
        main, [*args, "--config", str(path)], env={**clean, "MCPCLOUD_STATE_DIR": str(tmp_path)}
    )
    return result.exit_code, result.stdout, result.stderr


def test_config_shows_remotes_with_every_credential_hidden(tmp_path: Path) -> None:
    config = (
        '[remotes.team]\nurl = "https://mcp.example.com/mcp"\nheaders = { Authorization = "Bearer mcpk_sekrit" }\n'
        '[remotes.ci]\nurl = "https://ci.example.com/mcp"\nauth = "oauth"\n'
        '[remotes.ci.oauth]\ngrant = "client_credentials"\nclient_id = "bot"\nclient_secret = "hunter2"\n'
    )
    code, out, err = _run("config", config=config, tmp_path=tmp_path)
    assert code == 0, err
    assert "mcpk_sekrit" not in out and "hunter2" not in out
    shown = json.loads(out)["remotes"]
    assert shown["team"]["headers"] == {"Authorization": "**********"}
    assert shown["ci"]["oauth"]["client_secret"] == "**********" and shown["ci"]["oauth"]["client_id"] == "bot"
    code, out, _ = _run("remotes", "list", config=config, tmp_path=tmp_path)
    assert code == 0 and "team: https://mcp.example.com/mcp (auth headers, prefix 'team_', optional)" in out
    assert "mcpk_sekrit" not in out and "hunter2" not in out


@pytest.mark.parametrize(
    "config, message",
    [
        ('[remotes.team]\nurl = "ftp://x/mcp"\n', "remotes.team.url: must be an http:// or https:// URL"),
        ('[remotes.Team]\nurl = "https://x/mcp"\n', "'Team': a remote's name is a lowercase letter"),
        ('[remotes.team]\nurl = "https://x/mcp"\nprefix = "a b"\n', "remotes.team.prefix: use at most 32 letters"),
        ('[remotes.team]\nurl = "https://x/mcp"\ncolour = 1\n', "remotes.team.colour: unknown setting"),
        ("[remotes.team]\n", "remotes.team.url: Field required"),
        (
            '[remotes.team]\nurl = "https://x/mcp"\nauth = "oauth"\noauth = { grant = "client_credentials" }\n',
            "oauth.client_id and oauth.client_secret are required for grant client_credentials",
        ),
    ],
)
def test_a_bad_remote_setting_is_named_with_its_fix(config: str, message: str, tmp_path: Path) -> None:
    code, _, err = _run("config", config=config, tmp_path=tmp_path)
    assert code == 2
    assert message in err and "[env MCPCLOUD_REMOTES" in err


def test_remote_commands_name_an_unknown_remote(tmp_path: Path) -> None:
    code, _, err = _run(
        "remotes", "approve", "nope", config='[remotes.team]\nurl = "https://x/mcp"\n', tmp_path=tmp_path
    )
    assert code == 2 and "no remote named 'nope' (configured: team)" in err
    code, _, err = _run("remotes", "login", "team", config='[remotes.team]\nurl = "https://x/mcp"\n', tmp_path=tmp_path)
    assert code == 1 and "uses auth = 'headers': there is nothing to log in to" in err


def test_remotes_check_reports_protocol_tools_and_a_remote_that_is_down(tmp_path: Path) -> None:
    from tests.conftest import free_port
    from tests.remotes.conftest import start_cloud

    cloud = start_cloud(tmp_path)
    try:
        config = (
            f'[remotes.team]\nurl = "{cloud.url}"\nheaders = {{ Authorization = "Bearer {cloud.key}" }}\n'
            f'[remotes.dead]\nurl = "http://127.0.0.1:{free_port()}/mcp"\n'
        )
        code, out, _ = _run("remotes", "check", config=config, tmp_path=tmp_path)
    finally:
        cloud.server.stop()
    assert code == 1
    assert "team: up, protocol 2026-07-28, 3 tools listed, 3 pass the filters" in out
    assert "  team_echo  <- echo" in out
    assert "dead: DOWN: cannot reach the remote" in out
    assert not (tmp_path / "pins.json").exists(), "check records nothing"
