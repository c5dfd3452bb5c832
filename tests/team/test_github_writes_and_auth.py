"""github pack: writes only when enabled, toolsets one by one, GitHub App installation tokens, settings errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github_wire import GitHubWire
from scenarios import GITHUB_TOKEN
from team_helpers import pack_client, refusal

from mcpcloud.config import load_settings
from mcpcloud.errors import ConfigError
from mcpcloud.server import build

WRITE_TOOLS = {
    "github_create_issue",
    "github_add_issue_comment",
    "github_create_pull_request",
    "github_rerun_workflow_run",
}


def github(wire: GitHubWire, **extra: Any) -> dict[str, Any]:
    return {"github": {"base_url": wire.base_url, "token": GITHUB_TOKEN, "repos": ["acme/*"], **extra}}


async def test_read_only_by_default_and_toolsets_one_by_one(github_wire: GitHubWire) -> None:
    async with pack_client("github", github(github_wire)) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names == {
            "github_get_repository",
            "github_get_file_contents",
            "github_list_commits",
            "github_list_branches",
            "github_list_issues",
            "github_get_issue",
            "github_list_issue_comments",
            "github_search_issues",
            "github_list_pull_requests",
            "github_get_pull_request",
            "github_list_pull_request_files",
        }
        assert all(t.annotations.read_only_hint for t in (await client.list_tools()).tools)
        assert "Unknown tool" in refusal(
            await client.call_tool("github_create_issue", {"repo": "acme/site", "title": "x"})
        )
    async with pack_client("github", github(github_wire, toolsets=["actions"], allow_writes=True)) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names == {"github_list_workflow_runs", "github_get_workflow_run", "github_rerun_workflow_run"}


async def test_writes_when_enabled_are_destructive_and_need_github_write(github_wire: GitHubWire) -> None:
    toolsets = ["repos", "issues", "pull_requests", "actions"]
    server = build(load_settings(packs="github", pack=github(github_wire, allow_writes=True, toolsets=toolsets)))
    for tool in WRITE_TOOLS:
        policy = server.registry.get(tool)
        assert policy is not None and policy.scopes == ("github:write",)
        assert policy.annotations.destructive_hint is True and policy.annotations.read_only_hint is False
    assert server.registry.get("github_get_issue").scopes == ("github:read",)  # type: ignore[union-attr]

    async with pack_client("github", github(github_wire, allow_writes=True, toolsets=toolsets)) as client:
        created = await client.call_tool(
            "github_create_issue",
            {"repo": "acme/site", "title": "From the agent", "body": "Found while testing", "labels": ["bug"]},
        )
        assert created.structured_content["number"] == 48 and created.structured_content["labels"] == ["bug"]
        comment = await client.call_tool(
            "github_add_issue_comment", {"repo": "acme/site", "number": 48, "body": "More"}
        )
        assert comment.structured_content["body"] == "More"
        assert github_wire.repos["acme/site"].comments[48][0]["body"] == "More"
        pr = await client.call_tool(
            "github_create_pull_request",
            {"repo": "acme/site", "title": "Login", "head": "feature/login", "base": "main"},
        )
        assert pr.structured_content["number"] == 49 and pr.structured_content["head"] == "feature/login"
        bad = refusal(
            await client.call_tool(
                "github_create_pull_request",
                {"repo": "acme/site", "title": "x", "head": "no-such-branch", "base": "main"},
            )
        )
        assert "GitHub answered 422" in bad and "Validation Failed" in bad and "head: invalid" in bad
        rerun = await client.call_tool("github_rerun_workflow_run", {"repo": "acme/site", "run_id": 9001})
        assert rerun.structured_content == {"repo": "acme/site", "run_id": 9001, "rerun": "requested"}
        assert github_wire.repos["acme/site"].runs[0]["attempt"] == 2


def _app_key(path: Path) -> rsa.RSAPrivateKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.write_bytes(pem)
    return key


async def test_github_app_installation_tokens_are_minted_and_refreshed(github_wire: GitHubWire, tmp_path: Path) -> None:
    key = _app_key(tmp_path / "app.pem")
    github_wire.app_id, github_wire.installation_id = 4242, 777
    github_wire.app_public_key = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    github_wire.installation_repos = {"acme/tools"}
    github_wire.installation_token_seconds = 62  # githubkit refreshes a minute early: a token it keeps 1-2 s
    app = {
        "base_url": github_wire.base_url,
        "app_id": 4242,
        "private_key_file": str(tmp_path / "app.pem"),
        "installation_id": 777,
        "repos": ["acme/*"],
    }
    async with pack_client("github", {"github": app}) as client:
        first = await client.call_tool("github_get_file_contents", {"repo": "acme/tools", "path": "tool.py"})
        assert first.structured_content["content"] == "print('tools')\n"
        assert len(github_wire.minted) == 1
        await client.call_tool("github_get_repository", {"repo": "acme/site"})
        assert len(github_wire.minted) == 1  # reused while valid
        await anyio.sleep(2.1)  # expires_at has whole seconds: githubkit keeps this token 1 to 2 s
        again = await client.call_tool("github_get_repository", {"repo": "acme/tools"})
        assert not again.is_error and len(github_wire.minted) == 2  # expired: a new one was minted
        assert all(not token.startswith("ghs_") or token not in str(again.content) for token, _ in github_wire.minted)

    _app_key(tmp_path / "other.pem")  # a key GitHub does not know
    async with pack_client("github", {"github": app | {"private_key_file": str(tmp_path / "other.pem")}}) as client:
        message = refusal(await client.call_tool("github_get_repository", {"repo": "acme/site"}))
        assert (
            "GitHub App authentication failed: GitHub answered 401 for /app/installations/777/access_tokens" in message
        )
        assert "JSON web token could not be decoded" in message


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {"repos": ["a/b"]},
            "credentials missing: set token (or token_file), or app_id + private_key_file + installation_id",
        ),
        ({"token": "t"}, 'repos is required: the repositories the tools may touch, e.g. repos = ["myorg/*"]'),
        ({"token": "t", "repos": ["org"]}, '\'org\' is not "owner/name", "owner/*" or "*/*"'),
        ({"token": "t", "repos": ["*/x"]}, "'*/x' is not"),
        ({"token": "t", "app_id": 1, "repos": ["a/b"]}, "give either token or app_id"),
        ({"token": "t", "repos": ["a/b"], "toolsets": ["wiki"]}, "toolsets"),
        ({"token_file": "/nonexistent/token", "repos": ["a/b"]}, "token_file: cannot read '/nonexistent/token'"),
    ],
)
def test_settings_errors_name_the_key_and_the_fix(settings: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build(load_settings(packs="github", pack={"github": settings}))
    assert expected in str(caught.value) and "pack.github" in str(caught.value)
