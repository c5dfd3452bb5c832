"""`mcpcloud tools --packs core,github,stripe`: the team tools with the scopes they need and their hints."""

from __future__ import annotations

import json
import subprocess

from tests.conftest import MCPCLOUD, server_env

PACK = {
    "github": {"token": "ghp_cli_secret_token", "repos": ["acme/*"], "allow_writes": True},
    "stripe": {"api_key": "rk_test_cli_secret", "allow_writes": True},
}


def run_tools(pack: dict[str, object] | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """`mcpcloud tools` for core, github and stripe, with `pack` as one MCPCLOUD_PACK JSON or settings in `env`."""
    if pack is not None:
        env["MCPCLOUD_PACK"] = json.dumps(pack)
    return subprocess.run(
        [MCPCLOUD, "tools", "--packs", "core,github,stripe", "--json"],
        env=server_env(**env),
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_tools_lists_scopes_and_annotations() -> None:
    done = run_tools(PACK)
    assert done.returncode == 0, done.stderr
    tools = {t["name"]: t for t in json.loads(done.stdout)}
    for name in ("github_create_issue", "github_add_issue_comment", "github_create_pull_request"):
        assert tools[name]["scopes"] == ["github:write"]
        assert (
            tools[name]["annotations"]["destructiveHint"] is True
            and tools[name]["annotations"]["readOnlyHint"] is False
        )
    assert (
        tools["github_get_issue"]["scopes"] == ["github:read"]
        and tools["github_get_issue"]["annotations"]["readOnlyHint"]
    )
    assert tools["stripe_create_refund"]["scopes"] == ["stripe:write"]
    assert tools["stripe_create_refund"]["annotations"] == {
        "readOnlyHint": False,
        "destructiveHint": True,
        "idempotentHint": True,
        "openWorldHint": True,
    }
    assert tools["stripe_get_balance"]["scopes"] == ["stripe:read"] and tools["echo"]["pack"] == "core"
    assert "ghp_cli_secret_token" not in done.stdout + done.stderr and "rk_test_cli_secret" not in done.stdout


def test_missing_settings_exit_2_naming_the_key() -> None:
    done = run_tools({"github": {"repos": ["acme/*"]}, "stripe": {"api_key": "sk_live_cli_secret"}})
    assert done.returncode == 2
    assert "pack.github" in done.stderr and "credentials missing" in done.stderr
    live = run_tools({"github": PACK["github"], "stripe": {"api_key": "sk_live_cli_secret"}})
    assert live.returncode == 2 and "live-mode key (sk_live_…): refused unless allow_live = true" in live.stderr
    assert "cli_secret" not in live.stderr + live.stdout


def test_config_redacts_the_team_secrets() -> None:
    pack = PACK | {
        "vectors": {"backend": "pinecone", "pinecone": {"host": "https://i.pinecone.io", "api_key": "pcsk_cli_secret"}}
    }
    env = server_env(MCPCLOUD_PACK=json.dumps(pack))
    done = subprocess.run(
        [MCPCLOUD, "config", "--packs", "github,stripe,vectors"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)["pack"]
    assert (
        shown["github"]["token"]
        == shown["stripe"]["api_key"]
        == shown["vectors"]["pinecone"]["api_key"]
        == "**********"
    )
    assert "cli_secret" not in done.stdout + done.stderr and "ghp_cli" not in done.stdout


def test_pack_lists_and_sections_from_separate_environment_variables() -> None:
    """`MCPCLOUD_PACK__GITHUB__REPOS='["acme/*"]'` works as the TOML list does (JSON text, as pydantic-settings reads
    the top-level sections); text that is not JSON still gets the pack's own message naming the key."""
    env = {
        "MCPCLOUD_PACK__GITHUB__TOKEN": "ghp_cli_secret_token",
        "MCPCLOUD_PACK__GITHUB__REPOS": '["acme/*"]',
        "MCPCLOUD_PACK__GITHUB__TOOLSETS": '["issues"]',
        "MCPCLOUD_PACK__STRIPE__API_KEY": "rk_test_cli_secret",
    }
    done = run_tools(**env)
    assert done.returncode == 0, done.stderr
    names = {tool["name"] for tool in json.loads(done.stdout)}
    assert "github_get_issue" in names and not any(name.startswith("github_get_file") for name in names)
    broken = run_tools(**(env | {"MCPCLOUD_PACK__GITHUB__REPOS": "[acme/*"}))
    assert broken.returncode == 2 and "pack.github.repos" in broken.stderr
