"""The team packs served for real: `mcpcloud serve` over Streamable HTTP (every client mode, API keys
with per-principal scopes) and over stdio, driven by the SDK's own client, against the wire servers.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from github_wire import GitHubWire
from github_wire import make_app as github_app
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from scenarios import GITHUB_TOKEN, github_scenario
from stripe_wire import StripeWire
from stripe_wire import make_app as stripe_app
from stripe_wire import scenario as stripe_scenario
from team_helpers import refusal
from tests.conftest import CONNECT_MODES, RunningServer, spawn_server, stdio_params, wait_ready
from wire_thread import serve_wire

from mcpcloud.security.apikeys import mint
from mcpcloud.security.keystore import FileKeyStore

PRINCIPALS = {
    "reader": ["github:read", "stripe:read"],
    "writer": ["github:read", "github:write", "stripe:read", "stripe:write"],
    "colleague": ["stripe:read", "stripe:write"],
}


def pack_settings(github: GitHubWire, stripe: StripeWire) -> dict[str, Any]:
    return {
        "github": {
            "base_url": github.base_url,
            "token": GITHUB_TOKEN,
            "repos": ["acme/*"],
            "allow_writes": True,
            "toolsets": ["repos", "issues", "code_search"],
        },
        "stripe": {"api_key": "sk_test_wire", "api_base": stripe.base_url, "allow_writes": True},
    }


@pytest.fixture(scope="module")
def wires() -> Iterator[tuple[GitHubWire, StripeWire]]:
    with serve_wire(github_scenario(), github_app) as github, serve_wire(stripe_scenario(), stripe_app) as stripe:
        yield github, stripe


@pytest.fixture(scope="module")
def served(
    wires: tuple[GitHubWire, StripeWire], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("team-http")
    keys = _mint_keys(tmp / "keys.json")
    env = {
        "MCPCLOUD_PACKS": "core,github,stripe",
        "MCPCLOUD_PACK": json.dumps(pack_settings(*wires)),
        "MCPCLOUD_AUTH__MODES": "api_keys",
        "MCPCLOUD_AUTH__API_KEYS__FILE": str(tmp / "keys.json"),
    }
    server = wait_ready(spawn_server(tmp, env=env))
    yield server, keys
    server.stop()


def _mint_keys(path: Path) -> dict[str, str]:
    import anyio

    store = FileKeyStore(path)
    keys = {}

    async def add_all() -> None:
        for name, scopes in PRINCIPALS.items():
            new = mint(name, scopes, None)
            await store.add(new.record)
            keys[name] = new.key

    anyio.run(add_all)
    return keys


@asynccontextmanager
async def as_principal(server: RunningServer, key: str, mode: str) -> AsyncIterator[Client]:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {key}"})
    async with Client(streamable_http_client(server.url, http_client=http), mode=mode) as client:  # type: ignore[arg-type]
        yield client


@pytest.mark.parametrize("mode", CONNECT_MODES)
async def test_lockdown_and_scopes_over_http(
    served: tuple[RunningServer, dict[str, str]], wires: tuple[GitHubWire, StripeWire], mode: str
) -> None:
    server, keys = served
    github, _ = wires
    async with as_principal(server, keys["reader"], mode) as reader:
        visible = {t.name for t in (await reader.list_tools()).tools}
        assert (
            "github_get_issue" in visible
            and "github_create_issue" not in visible
            and "stripe_create_refund" not in visible
        )
        with pytest.raises(Exception) as caught:
            await reader.call_tool("github_add_issue_comment", {"repo": "acme/site", "number": 46, "body": "leak"})
        assert "needs scope 'github:write'" in _mcp_message(caught.value)
    async with as_principal(server, keys["writer"], mode) as writer:
        issue = (await writer.call_tool("github_get_issue", {"repo": "acme/site", "number": 46})).structured_content
        assert "acme-internal/secrets" in issue["body"]
        message = refusal(
            await writer.call_tool("github_get_file_contents", {"repo": "acme-internal/secrets", "path": "README.md"})
        )
        assert "'acme-internal/secrets' is outside this server's repository lockdown (allowed: acme/*)" in message
        assert "hunter2" not in json.dumps(
            (await writer.call_tool("github_search_code", {"query": "hunter2"})).structured_content
        )
    assert not [p for p in github.requested_paths() if "acme-internal" in p]
    assert github.repos["acme/site"].comments.get(46) is None


@pytest.mark.parametrize("mode", CONNECT_MODES)
async def test_refund_replay_is_per_principal_over_http(
    served: tuple[RunningServer, dict[str, str]], wires: tuple[GitHubWire, StripeWire], mode: str
) -> None:
    server, keys = served
    _, stripe = wires
    charge = stripe.paid_charge(9000, "eur")
    args = {"charge": charge["id"], "amount": 1000}
    async with as_principal(server, keys["writer"], mode) as writer:
        first = (await writer.call_tool("stripe_create_refund", args)).structured_content
        replay = (await writer.call_tool("stripe_create_refund", args)).structured_content
    assert replay == first and charge["amount_refunded"] == 1000  # a retried call: one refund
    async with as_principal(server, keys["colleague"], mode) as colleague:
        theirs = (await colleague.call_tool("stripe_create_refund", args)).structured_content
    assert theirs["id"] != first["id"] and charge["amount_refunded"] == 2000  # another caller's own request
    keys_sent = [r["idempotency_key"] for r in stripe.posts("/v1/refunds") if r["params"].get("charge") == charge["id"]]
    assert len(keys_sent) == 3 and keys_sent[0] == keys_sent[1] != keys_sent[2]
    log = server.log()
    assert "sk_test_wire" not in log and GITHUB_TOKEN not in log and not any(key in log for key in keys.values())


async def test_lockdown_over_stdio(wires: tuple[GitHubWire, StripeWire]) -> None:
    github, stripe = wires
    params = stdio_params("--packs", "github,stripe", MCPCLOUD_PACK=json.dumps(pack_settings(github, stripe)))
    async with Client(params) as client:
        message = refusal(
            await client.call_tool("github_create_issue", {"repo": "acme-internal/secrets", "title": "done"})
        )
        assert "'acme-internal/secrets' is outside this server's repository lockdown" in message
        found = (
            await client.call_tool("github_list_issues", {"repo": "acme/site", "labels": ["docs"]})
        ).structured_content
        assert found["items"] and all(i["labels"] == ["docs"] for i in found["items"])
        balance = (await client.call_tool("stripe_get_balance", {})).structured_content
        assert balance["available"][0]["amount_display"] == "1234.56 EUR"


def _mcp_message(exc: BaseException) -> str:
    from mcp.shared.exceptions import MCPError

    if isinstance(exc, MCPError):
        return str(exc.message)
    for inner in getattr(exc, "exceptions", ()):
        found = _mcp_message(inner)
        if found:
            return found
    return ""
