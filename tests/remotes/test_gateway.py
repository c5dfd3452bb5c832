"""On HTTP the same `[remotes.*]` mounts upstream servers behind mcpcloud's own authentication and scopes."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import httpx
from tests.conftest import free_port, spawn_server, start_server
from tests.remotes.conftest import CloudRemote, bearer, create_api_key, http_client, toml_remote
from tests.remotes.test_hybrid import wait_for_tools


def _gateway_config(cloud: CloudRemote, tmp_path: Path, dead_required: bool) -> Path:
    dead = f"http://127.0.0.1:{free_port()}/mcp"
    path = tmp_path / "gateway.toml"
    path.write_text(
        toml_remote("team", cloud.url, headers=f'{{ Authorization = "Bearer {cloud.key}" }}')
        + toml_remote("dead", dead, required="true" if dead_required else "false")
    )
    return path


def _env(tmp_path: Path, keys: Path) -> dict[str, str]:
    return {
        "MCPCLOUD_AUTH__MODES": "api_keys",
        "MCPCLOUD_AUTH__API_KEYS__FILE": str(keys),
        "MCPCLOUD_STATE_DIR": str(tmp_path / "state"),
        "MCPCLOUD_HTTP__SHUTDOWN_GRACE_SECONDS": "1",
    }


async def test_gateway_serves_remote_tools_with_its_own_credentials_and_scopes(
    tmp_path: Path, cloud: CloudRemote
) -> None:
    keys = tmp_path / "gateway-keys.json"
    allowed = await anyio.to_thread.run_sync(create_api_key, keys, "core:read,remotes.team:read")
    local_only = await anyio.to_thread.run_sync(create_api_key, keys, "core:read")
    gateway = await anyio.to_thread.run_sync(
        lambda: start_server(
            tmp_path, "--config", str(_gateway_config(cloud, tmp_path, dead_required=False)), env=_env(tmp_path, keys)
        )
    )
    try:
        async with http_client(gateway.url, bearer(allowed), mode="legacy") as session:
            await wait_for_tools(session, {"team_echo"})
            # The caller's key is the gateway's; the hop uses the remote's own key, so this only works if
            # the inbound credential is not what reaches the remote.
            assert allowed != cloud.key
            echoed = await session.call_tool("team_echo", {"message": "through the gateway"})
            assert echoed.content[0].text == "through the gateway"
        async with http_client(gateway.url, bearer(local_only), mode="2026-07-28") as session:
            names = {tool.name for tool in (await session.list_tools()).tools}
            assert "echo" in names and "team_echo" not in names
            async with httpx.AsyncClient(timeout=10) as raw:
                refused = await raw.post(
                    gateway.url,
                    headers={
                        **bearer(local_only),
                        "Accept": "application/json, text/event-stream",
                        "MCP-Protocol-Version": "2025-06-18",
                    },
                    json={
                        "jsonrpc": "2.0",
                        "id": 1,
                        "method": "tools/call",
                        "params": {"name": "team_echo", "arguments": {"message": "x"}},
                    },
                )
            assert refused.status_code == 403
            assert "needs scope 'remotes.team:read'" in refused.text
        async with httpx.AsyncClient(timeout=5) as raw:
            ready = (await raw.get(f"{gateway.base_url}/readyz")).json()
        assert ready["status"] == "ready"
        assert ready["checks"]["remotes.team"]["detail"].startswith("up, protocol 2026-07-28")
        assert ready["checks"]["remotes.dead"]["detail"].startswith("optional, down: cannot reach the remote")
        assert cloud.key not in gateway.log()
    finally:
        gateway.stop()


def test_a_required_remote_that_is_down_fails_readiness_by_name(tmp_path: Path, cloud: CloudRemote) -> None:
    keys = tmp_path / "gateway-keys.json"
    create_api_key(keys)
    gateway = spawn_server(
        tmp_path, "--config", str(_gateway_config(cloud, tmp_path, dead_required=True)), env=_env(tmp_path, keys)
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"{gateway.base_url}/readyz", timeout=2)
                body = response.json()
                if "down:" in body.get("checks", {}).get("remotes.dead", {}).get("detail", ""):
                    break
            except (httpx.TransportError, ValueError):
                pass
            assert time.monotonic() < deadline, gateway.log()
            time.sleep(0.1)
        assert response.status_code == 503
        assert body["checks"]["remotes.dead"]["ready"] is False
        assert "RemoteUnavailable: required, down: cannot reach the remote" in body["checks"]["remotes.dead"]["detail"]
        assert body["checks"]["remotes.team"]["ready"] is True
    finally:
        gateway.stop()
