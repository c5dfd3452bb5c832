"""The command line: bad configuration, `tools --json`, `config` redaction, precedence."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from tests.conftest import MCPCLOUD, server_env


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MCPCLOUD, *args],
        capture_output=True,
        text=True,
        env=server_env(**(env or {})),
        cwd=cwd,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("mcpcloud, version ")


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--packs", "core,warp_drive"], {}, "packs: unknown pack 'warp_drive' (available:"),
        (
            [],
            {"MCPCLOUD_PORT": "70000"},
            "port: Input should be less than or equal to 65535 (got '70000') [env MCPCLOUD_PORT]",
        ),
        ([], {"MCPCLOUD_PORT": "eighty"}, "port: Input should be a valid integer"),
        ([], {"MCPCLOUD_TRANSPORT": "carrier-pigeon"}, "transport: Input should be 'stdio' or 'http'"),
        ([], {"MCPCLOUD_HTTP__MAX_BODY_BYTES": "-1"}, "http.max_body_bytes: Input should be greater than 0"),
        ([], {"MCPCLOUD_HTTP__PATH": "no-slash"}, "http.path: Value error, must start with '/'"),
        (["--config", "/nonexistent/mcpcloud.toml"], {}, "config file '/nonexistent/mcpcloud.toml': cannot read it"),
        ([], {"MCPCLOUD_LOG__LEVEL": "LOUD"}, "log.level: Input should be"),
    ],
)
def test_bad_configuration_is_one_clear_line_and_exit_2(args: list[str], env: dict[str, str], expected: str) -> None:
    assert_config_error(run("config", *args, env=env), expected)


@pytest.mark.parametrize("command", [["serve"], ["serve", "--transport", "stdio"], ["tools"]])
def test_every_command_reports_bad_configuration_the_same_way(command: list[str]) -> None:
    assert_config_error(
        run(*command, env={"MCPCLOUD_PORT": "70000"}), "port: Input should be less than or equal to 65535"
    )


def assert_config_error(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mcpcloud: configuration error: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_bad_toml_names_the_file_and_the_problem(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("port = [unclosed\n")
    result = run("config", "--config", str(broken))
    assert result.returncode == 2
    assert f"config file '{broken}': not valid TOML" in result.stderr


def test_unknown_key_in_toml_is_named(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[http]\nmax_body = 10\n")
    result = run("config", "--config", str(config))
    assert result.returncode == 2
    assert "http.max_body: unknown setting" in result.stderr


def test_settings_for_a_pack_that_is_not_enabled_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('packs = ["core"]\n[pack.conformance]\n')
    result = run("config", "--config", str(config))
    assert result.returncode == 2
    assert "pack.conformance: settings given for a pack that is not enabled" in result.stderr


def test_flags_beat_env_beat_file(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('port = 7001\nhost = "127.0.0.2"\npacks = ["core"]\n[http]\nshutdown_grace_seconds = 3\n')
    result = run(
        "config",
        "--config",
        str(config),
        "--port",
        "7003",
        env={"MCPCLOUD_PORT": "7002", "MCPCLOUD_PACKS": "core,conformance"},
    )
    assert result.returncode == 0, result.stderr
    effective = json.loads(result.stdout)
    assert effective["port"] == 7003
    assert effective["host"] == "127.0.0.2"
    assert effective["packs"] == ["core", "conformance"]
    assert effective["http"]["shutdown_grace_seconds"] == 3


def test_config_redacts_credentials_in_urls() -> None:
    result = run("config", env={"MCPCLOUD_HTTP__PUBLIC_URL": "https://deploy:hunter2-secret@mcp.example/mcp"})
    assert result.returncode == 0, result.stderr
    assert "hunter2-secret" not in result.stdout
    assert json.loads(result.stdout)["http"]["public_url"] == "https://deploy:**********@mcp.example/mcp"


def test_tools_json_lists_scopes_and_annotations() -> None:
    result = run("tools", "--json", "--packs", "core")
    assert result.returncode == 0, result.stderr
    tools = {tool["name"]: tool for tool in json.loads(result.stdout)}
    assert set(tools) == {"health_check", "echo", "get_time"}
    assert tools["echo"]["pack"] == "core"
    assert tools["echo"]["scopes"] == ["core:read"]
    assert tools["echo"]["annotations"]["readOnlyHint"] is True
    assert tools["get_time"]["description"].startswith("Current time")


def test_a_pack_can_be_enabled_by_module_path() -> None:
    result = run("tools", "--json", "--packs", "core,tests.packs.slow")
    assert result.returncode == 0, result.stderr
    slow = [tool for tool in json.loads(result.stdout) if tool["pack"] == "slow"]
    assert [tool["name"] for tool in slow] == ["sleep_then_echo"]
    assert slow[0]["scopes"] == ["slow:read"]


def test_unimportable_pack_module_is_a_config_error() -> None:
    result = run("tools", "--packs", "core,tests.packs.missing")
    assert result.returncode == 2
    assert "packs: cannot import pack module 'tests.packs.missing'" in result.stderr


@pytest.mark.parametrize("client", ["claude-desktop", "vscode", "cursor"])
def test_client_config_for_a_remote_url(client: str) -> None:
    result = run("client-config", client, "--url", "https://mcp.example/mcp")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    top = "servers" if client == "vscode" else "mcpServers"
    assert "mcpcloud" in document[top]
    assert "https://mcp.example/mcp" in json.dumps(document)
