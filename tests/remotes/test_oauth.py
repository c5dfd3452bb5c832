"""OAuth on the hop against a real `mcpcloud serve` (auth.modes = oauth) and a loopback authorization server."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client
from tests.conftest import MCPCLOUD, RunningServer, server_env, start_server
from tests.remotes.conftest import hybrid_params, toml_remote
from tests.remotes.oauth_server import AuthServer, auth_server
from tests.remotes.test_hybrid import LOCAL, wait_for_tools

from mcpcloud.config import RemoteSettings, load_settings
from mcpcloud.remotes.oauth import UnsafeUrl, check_url
from mcpcloud.remotes.upstream import probe


@pytest.fixture
def issuer() -> Iterator[AuthServer]:
    with auth_server() as server:
        yield server


@pytest.fixture
def oauth_cloud(tmp_path: Path, issuer: AuthServer) -> Iterator[RunningServer]:
    env = {
        "MCPCLOUD_AUTH__MODES": "oauth",
        "MCPCLOUD_AUTH__OAUTH__ISSUER": issuer.url,
        "MCPCLOUD_AUTH__OAUTH__LEEWAY_SECONDS": "0",
        "MCPCLOUD_HTTP__SHUTDOWN_GRACE_SECONDS": "1",
    }
    server = start_server(tmp_path, env=env)
    yield server
    server.stop()


def _config(cloud: RunningServer, issuer: AuthServer) -> str:
    issuer.clients["build-bot"] = "s3cret"
    return toml_remote("team", cloud.url, auth='"oauth"') + (
        f'[remotes.team.oauth]\ngrant = "client_credentials"\nclient_id = "build-bot"\nclient_secret = "s3cret"\n'
        f'issuer = "{issuer.url}"\n'
    )


async def test_client_credentials_get_a_token_and_a_fresh_one_when_it_expires(
    tmp_path: Path, issuer: AuthServer, oauth_cloud: RunningServer
) -> None:
    issuer.lifetime = 2
    async with Client(hybrid_params(tmp_path, _config(oauth_cloud, issuer)), mode="legacy") as client:
        names = await wait_for_tools(client, {"team_echo"})
        assert names == LOCAL | {"team_echo", "team_get_time", "team_health_check"}
        assert (await client.call_tool("team_echo", {"message": "m2m"})).content[0].text == "m2m"
        await anyio.sleep(3)  # the token has expired: the remote answers 401, a new token is fetched, the call retried
        again = await client.call_tool("team_echo", {"message": "later"})
        assert not again.is_error and again.content[0].text == "later"
    assert issuer.issued.count("client_credentials") >= 2
    stored = list((tmp_path / "state" / "tokens").glob("*.json"))
    assert len(stored) == 1
    record = json.loads(stored[0].read_text())
    assert record["issuer"] == issuer.url and record["resource"] == oauth_cloud.url
    assert oct(stored[0].stat().st_mode & 0o777) == "0o600"


async def test_login_once_then_servers_use_and_refresh_the_stored_token(
    tmp_path: Path, issuer: AuthServer, oauth_cloud: RunningServer
) -> None:
    config = toml_remote("team", oauth_cloud.url, auth='"oauth"')
    params = hybrid_params(tmp_path, config)
    # Before a login the server says what to do, and keeps serving its local tools.
    async with Client(params, mode="legacy") as client:
        assert {t.name for t in (await client.list_tools()).tools} == LOCAL
        await anyio.sleep(1)
        detail = (await client.call_tool("health_check", {})).structured_content["packs"]["remotes.team"]["detail"]
        assert "run `mcpcloud remotes login team`" in detail
    issuer.lifetime = 2
    login = await anyio.to_thread.run_sync(lambda: _log_in_as_a_person(params, tmp_path))
    assert login.returncode == 0, login.stderr
    assert f"{issuer.url}/authorize?" in login.stderr and "logged in to remote 'team'" in login.stdout
    async with Client(params, mode="legacy") as client:
        await wait_for_tools(client, {"team_echo"})
        await anyio.sleep(2.5)  # expired: the refresh token gets a new one
        assert (await client.call_tool("team_echo", {"message": "person"})).content[0].text == "person"
    assert "refresh_token" in issuer.issued


def _log_in_as_a_person(params: Any, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`mcpcloud remotes login team --no-browser`, with this test as the person who opens the printed URL."""
    config = params.args[params.args.index("--config") + 1]
    process = subprocess.Popen(
        [MCPCLOUD, "remotes", "login", "team", "--no-browser", "--config", config],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=server_env(MCPCLOUD_STATE_DIR=str(tmp_path / "state")),
    )
    assert process.stderr is not None
    shown = process.stderr.readline()
    url = shown.split(" at: ", 1)[1].strip()
    browser = httpx.get(url, follow_redirects=True, timeout=10)  # the AS approves and redirects to the callback
    assert browser.text == "mcpcloud: login received, you can close this tab."
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, shown + stderr)


async def test_connections_racing_for_an_expired_token_share_one_refresh(
    tmp_path: Path, issuer: AuthServer, oauth_cloud: RunningServer
) -> None:
    """Refresh tokens rotate, so only one process may use one: the others wait and take the token it stored."""
    params = hybrid_params(tmp_path, toml_remote("team", oauth_cloud.url, auth='"oauth"'))
    issuer.lifetime = 1
    login = await anyio.to_thread.run_sync(lambda: _log_in_as_a_person(params, tmp_path))
    assert login.returncode == 0, login.stderr
    await anyio.sleep(1.5)  # the stored token has expired
    issuer.lifetime = 300

    # Three connections with their own OAuth state, as three processes have, racing for the same token.
    remote = load_settings(params.args[params.args.index("--config") + 1]).remotes["team"]
    results: list[int] = []

    async def one_process() -> None:
        _, tools = await probe("team", remote, state_dir=str(tmp_path / "state"))
        results.append(len(tools))

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(one_process)
    assert results == [3, 3, 3]
    assert issuer.issued.count("refresh_token") == 1
    assert "refresh_token refused" not in issuer.issued


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/token",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "ftp://127.0.0.1/x",
        "http://10.0.0.1/token",
        "https:///nohost",
    ],
)
def test_advertised_urls_must_be_https_or_loopback_http(url: str) -> None:
    with pytest.raises(UnsafeUrl, match="only https URLs, or http on a loopback address"):
        check_url(url, "token endpoint")
    assert check_url("https://auth.example.com/token", "x") and check_url("http://127.0.0.1:9/t", "x")
    assert check_url("http://[::1]:9/t", "x") and check_url("http://localhost/t", "x")


async def test_a_remote_advertising_an_unsafe_token_endpoint_is_not_sent_the_secret(
    tmp_path: Path, issuer: AuthServer, oauth_cloud: RunningServer
) -> None:
    issuer.advertise["token_endpoint"] = "http://192.0.2.1/steal"
    async with Client(hybrid_params(tmp_path, _config(oauth_cloud, issuer)), mode="legacy") as client:
        with anyio.fail_after(15):
            while True:
                detail = (await client.call_tool("health_check", {})).structured_content["packs"]["remotes.team"]
                if "refused" in detail["detail"]:
                    break
                await anyio.sleep(0.2)
        assert "'http://192.0.2.1/steal' refused: only https URLs, or http on a loopback address" in detail["detail"]
    assert issuer.issued == []


def test_oauth_settings_name_what_is_missing() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="client_id and oauth.client_secret are required"):
        RemoteSettings.model_validate(
            {"url": "https://x/mcp", "auth": "oauth", "oauth": {"grant": "client_credentials"}}
        )
