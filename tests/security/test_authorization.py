"""Per-tool authorization: scopes, overrides, per-principal rules, filtered tools/list, session binding, stdio."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from mcp import Client, StdioServerParameters
from security_helpers import MCPCLOUD, bearer, connected, post_call, refused, server_env, serving, settings

from mcpcloud.errors import ConfigError
from mcpcloud.security.apikeys import mint
from mcpcloud.security.keystore import FileKeyStore

ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


async def _keys(path: Path, **scopes: list[str]) -> dict[str, str]:
    store = FileKeyStore(path)
    keys = {}
    for name, granted in scopes.items():
        new = mint(name, granted, None)
        await store.add(new.record)
        keys[name] = new.key
    return keys


async def test_each_caller_sees_and_calls_only_what_it_may(tmp_path: Path) -> None:
    keys = await _keys(
        tmp_path / "keys.json",
        reader=["core:read"],
        writer=["core:read", "slowtest:read", "slowtest:write"],
        timekeeper=["time:read", "core:read"],
        limited=["*"],
        denied=["*"],
        nothing=["*"],
    )
    config = settings(
        auth={
            "modes": "api_keys",
            "api_keys": {"file": str(tmp_path / "keys.json")},
            "tool_scopes": {"get_time": ["time:read"]},
            "principals": {
                "key-name:limited": {"allow_tools": ["echo", "n*"], "deny_tools": ["note"]},
                "key-name:denied": {"deny_tools": ["n*", "hold"]},
                "key-name:nothing": {"allow_tools": []},
            },
        }
    )
    expected = {
        "reader": {"echo", "health_check"},
        "writer": {"echo", "health_check", "nap", "note", "hold"},
        "timekeeper": {"echo", "health_check", "get_time"},
        "limited": {"echo", "nap"},
        "denied": {"echo", "health_check", "get_time"},
        "nothing": set(),
    }
    with serving(config) as server:
        for mode in ("legacy", "2026-07-28"):
            for name, visible in expected.items():
                async with connected(server.url, bearer(keys[name]), mode) as session:
                    listed = await session.list_tools()
                    assert {t.name for t in listed.tools} == visible, (name, mode)
                    if mode == "2026-07-28":
                        assert listed.cache_scope == "private"
        reader_refused = await refused(server.url, bearer(keys["reader"]), tool="get_time")
        assert reader_refused.message == "tool 'get_time' needs scope 'time:read', which this credential does not have"
        limited_refused = await refused(
            server.url, bearer(keys["limited"]), "2026-07-28", tool="note", arguments={"text": "x"}
        )
        assert "tool 'note' is not allowed for key:" in limited_refused.message
        response = post_call(server.url, bearer(keys["limited"]), "get_time")
        assert response.status_code == 403 and "not allowed" in response.json()["error"]["message"]
        async with connected(server.url, bearer(keys["timekeeper"])) as session:
            assert (await session.call_tool("get_time", {"timezone": "UTC"})).is_error is False
        unknown = await refused(server.url, bearer(keys["writer"]), tool="no_such_tool")
        assert "no_such_tool" in unknown.message


async def test_a_session_belongs_to_the_principal_that_opened_it(tmp_path: Path) -> None:
    keys = await _keys(tmp_path / "keys.json", alice=["*"], bob=["*"])
    config = settings(auth={"modes": "api_keys", "api_keys": {"file": str(tmp_path / "keys.json")}})
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
    with serving(config) as server, httpx.Client(timeout=10) as http:
        opened = http.post(server.url, json=init, headers={**ACCEPT, **bearer(keys["alice"])})
        session_id = opened.headers["mcp-session-id"]
        session = {**ACCEPT, "Mcp-Session-Id": session_id, "MCP-Protocol-Version": "2025-06-18"}
        hijack = http.post(server.url, json=listing, headers={**session, **bearer(keys["bob"])})
        assert hijack.status_code == 404  # as if the session did not exist
        own = http.post(server.url, json=listing, headers={**session, **bearer(keys["alice"])})
        assert own.status_code == 200 and '"echo"' in own.text


def test_config_naming_unknown_tools_is_refused_at_startup() -> None:
    from mcpcloud.server import build

    with pytest.raises(ConfigError, match="auth.tool_scopes.nope: no enabled tool has this name"):
        build(settings(packs="core", auth={"tool_scopes": {"nope": ["x"]}}))


async def test_stdio_runs_as_the_configured_local_principal() -> None:
    params = StdioServerParameters(
        command=MCPCLOUD,
        args=["serve", "--transport", "stdio"],
        env=server_env(
            MCPCLOUD_AUTH__LOCAL_PRINCIPAL="desk",
            MCPCLOUD_AUTH__LOCAL_SCOPES=json.dumps(["core:read"]),
            MCPCLOUD_AUTH__TOOL_SCOPES=json.dumps({"get_time": ["time:read"]}),
        ),
    )
    async with Client(params) as session:
        assert {t.name for t in (await session.list_tools()).tools} == {"echo", "health_check"}
        result = await session.call_tool("echo", {"message": "local"})
        assert result.content[0].text == "local"
        with pytest.raises(Exception, match="needs scope 'time:read'"):
            await session.call_tool("get_time", {})
        assert (await session.call_tool("echo", {"message": "after"})).content[0].text == "after"


async def test_routing_headers_that_lie_about_the_tool_do_not_bypass_authorization(tmp_path: Path) -> None:
    from tests.wire import legacy_initialize, modern_call

    keys = await _keys(tmp_path / "keys.json", reader=["core:read", "slowtest:read"])
    config = settings(auth={"modes": "api_keys", "api_keys": {"file": str(tmp_path / "keys.json")}})
    with serving(config) as server, httpx.Client(timeout=10) as http:
        # 2026-07-28: the headers name a permitted tool, the body a forbidden one.
        headers, body = modern_call("note", {"text": "x"})
        headers.update({"Mcp-Name": "echo", **bearer(keys["reader"])})
        modern = http.post(server.url, json=body, headers=headers)
        assert "noted" not in modern.text and modern.status_code in (400, 403)
        # Legacy era: such headers mean nothing to the SDK; the gate ignores them and reads the body.
        init_headers, init = legacy_initialize()
        opened = http.post(server.url, json=init, headers={**init_headers, **bearer(keys["reader"])})
        session = {
            **ACCEPT,
            **bearer(keys["reader"]),
            "Mcp-Session-Id": opened.headers["mcp-session-id"],
            "MCP-Protocol-Version": "2025-11-25",
            "Mcp-Method": "tools/list",
            "Mcp-Name": "echo",
        }
        call = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "note", "arguments": {"text": "x"}},
        }
        legacy = http.post(server.url, json=call, headers=session)
        assert legacy.status_code == 403 and "needs scope 'slowtest:write'" in legacy.text
        # Honest requests still work.
        headers, body = modern_call("echo", {"message": "honest"})
        honest = http.post(server.url, json=body, headers={**headers, **bearer(keys["reader"])})
        assert honest.status_code == 200 and "honest" in honest.text
