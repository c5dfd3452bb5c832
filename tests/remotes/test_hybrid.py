"""Hybrid mode against real remotes: one local stdio server offering its own tools and the remote's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from tests.conftest import CONNECT_MODES
from tests.remotes.conftest import CloudRemote, LegacyRemote, hybrid_params, toml_remote

LOCAL = {"health_check", "echo", "get_time"}


async def wait_for_tools(client: Client, wanted: set[str], timeout: float = 20) -> set[str]:
    with anyio.fail_after(timeout):
        while True:
            names = {tool.name for tool in (await client.list_tools()).tools}
            if wanted <= names:
                return names
            await anyio.sleep(0.1)


def cloud_config(cloud: CloudRemote, **fields: str) -> str:
    return toml_remote("team", cloud.url, headers=f'{{ Authorization = "Bearer {cloud.key}" }}', **fields)


@pytest.mark.parametrize("mode", CONNECT_MODES)
async def test_local_and_remote_tools_in_one_list_and_both_callable(
    mode: str, tmp_path: Path, cloud: CloudRemote
) -> None:
    async with Client(hybrid_params(tmp_path, cloud_config(cloud)), mode=mode) as client:
        names = await wait_for_tools(client, {"team_echo"})
        assert names == LOCAL | {"team_health_check", "team_echo", "team_get_time"}
        local = await client.call_tool("echo", {"message": "here"})
        remote = await client.call_tool("team_echo", {"message": "over there"})
        assert (local.content[0].text, remote.content[0].text) == ("here", "over there")
        assert not remote.is_error
        health = await client.call_tool("health_check", {})
        assert health.structured_content["packs"]["remotes.team"]["ready"] is True
        assert health.structured_content["packs"]["remotes.team"]["detail"].startswith("up, protocol 2026-07-28")


async def test_remote_down_at_start_then_up(tmp_path: Path) -> None:
    """Local tools at once; the remote's tools appear (with a list-change notification) when it comes up."""
    from tests.conftest import free_port
    from tests.remotes.conftest import create_api_key, start_cloud

    port = free_port()
    key = await anyio.to_thread.run_sync(create_api_key, tmp_path / "remote-keys.json")
    config = toml_remote(
        "team", f"http://127.0.0.1:{port}/mcp", headers=f'{{ Authorization = "Bearer {key}" }}', retry_seconds="0.5"
    )
    changed = anyio.Event()

    async def on_message(message: object) -> None:
        if getattr(message, "method", "") == "notifications/tools/list_changed":
            changed.set()

    async with Client(hybrid_params(tmp_path, config), mode="legacy", message_handler=on_message) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == LOCAL
        health = (await client.call_tool("health_check", {})).structured_content
        team = health["packs"]["remotes.team"]
        assert team["ready"] is True and team["detail"].startswith("optional, down: cannot reach the remote")
        assert health["status"] == "ok"  # an optional remote being down is not a degraded server
        refused = await client.call_tool("team_echo", {"message": "x"})
        assert refused.is_error
        cloud = await anyio.to_thread.run_sync(lambda: start_cloud(tmp_path, port=port, key=key))
        try:
            with anyio.fail_after(30):
                await changed.wait()
            assert "team_echo" in {tool.name for tool in (await client.list_tools()).tools}
            assert (await client.call_tool("team_echo", {"message": "late"})).content[0].text == "late"
        finally:
            cloud.server.stop()


def legacy_config(legacy: LegacyRemote, **fields: str) -> str:
    return toml_remote("old", legacy.url, token_file=f'"{legacy.token_file}"', **fields)


async def test_a_2026_local_client_answers_a_handshake_era_remotes_question(
    tmp_path: Path, legacy: LegacyRemote
) -> None:
    """The question comes back as input_required; the answer on the retry reaches the waiting remote."""
    asked: list[str] = []

    async def answer(context: object, params: object) -> object:
        from mcp_types import ElicitResult

        asked.append(params.message)  # type: ignore[attr-defined]
        return ElicitResult(action="accept", content={"name": "Grace"})

    async with Client(
        hybrid_params(tmp_path, legacy_config(legacy)), mode="2026-07-28", elicitation_callback=answer
    ) as client:
        await wait_for_tools(client, {"old_ask_name"})
        greeted = await client.call_tool("old_ask_name", {})
        assert not greeted.is_error, greeted.content
        assert greeted.content[0].text == "hello Grace" and asked == ["What is your name?"]
        # Tools that ask nothing answer in one round, as before.
        assert (await client.call_tool("old_shout", {"text": "ok"})).content[0].text == "OK"


async def test_legacy_remote_progress_questions_and_list_changes(tmp_path: Path, legacy: LegacyRemote) -> None:
    answered: list[str] = []

    async def answer(context: object, params: object) -> object:
        from mcp_types import ElicitResult

        answered.append(params.message)  # type: ignore[attr-defined]
        return ElicitResult(action="accept", content={"name": "Ada"})

    changed = anyio.Event()

    async def on_message(message: object) -> None:
        if getattr(message, "method", "") == "notifications/tools/list_changed":
            changed.set()

    config = legacy_config(
        legacy, exclude_tools='["redescribe", "add_tool_quietly", "delete_note", "reannotate", "*_hidden"]'
    )
    async with Client(
        hybrid_params(tmp_path, config), mode="legacy", elicitation_callback=answer, message_handler=on_message
    ) as client:
        names = await wait_for_tools(client, {"old_shout"})
        assert names == LOCAL | {"old_shout", "old_count_slowly", "old_ask_name", "old_add_tool"}
        assert (await client.call_tool("old_shout", {"text": "quiet"})).content[0].text == "QUIET"

        progress: list[tuple[float, float | None, str | None]] = []

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            progress.append((value, total, message))

        counted = await client.call_tool("old_count_slowly", {"steps": 3}, progress_callback=on_progress)
        assert counted.content[0].text == "counted to 3"
        assert [p[0] for p in progress] == [1, 2, 3] and progress[-1] == (3, 3, "step 3")

        greeted = await client.call_tool("old_ask_name", {})
        assert greeted.content[0].text == "hello Ada" and answered == ["What is your name?"]

        # A list change on the remote reaches the local client, with the filters applied again.
        changed = anyio.Event()
        await client.call_tool("old_add_tool", {"name": "fresh"})
        await client.call_tool("old_add_tool", {"name": "also_hidden"})
        with anyio.fail_after(15):
            await changed.wait()
        names = await wait_for_tools(client, {"old_fresh"})
        assert "old_also_hidden" not in names and "old_redescribe" not in names
        assert (await client.call_tool("old_fresh", {})).content[0].text == "fresh here"


async def test_legacy_remote_restart_and_token_rotation_are_transparent(tmp_path: Path, legacy: LegacyRemote) -> None:
    async with Client(hybrid_params(tmp_path, legacy_config(legacy)), mode="2026-07-28") as client:
        await wait_for_tools(client, {"old_shout"})
        assert (await client.call_tool("old_shout", {"text": "a"})).content[0].text == "A"
        # The remote restarts: our handshake-era session is gone (404), so the bridge re-initializes once.
        legacy.stop()
        await anyio.to_thread.run_sync(legacy.start)
        again = await client.call_tool("old_shout", {"text": "b"})
        assert not again.is_error, again.content
        assert again.content[0].text == "B"
        # The token is rotated: the next request gets 401, the bridge reads the token file again and retries.
        legacy.token_file.write_text("second-token\n")
        rotated = await client.call_tool("old_shout", {"text": "c"})
        assert rotated.content[0].text == "C"
        assert legacy.event_lines().count("401") >= 1


@pytest.mark.parametrize("remote_fixture", ["legacy", "sdk_both_eras"])
async def test_cancellation_reaches_the_remote(remote_fixture: str, tmp_path: Path, request: Any) -> None:
    """Handshake era: notifications/cancelled is sent on; 2026-07-28: the hop's request is aborted."""
    remote: LegacyRemote = request.getfixturevalue(remote_fixture)
    async with Client(hybrid_params(tmp_path, legacy_config(remote)), mode="legacy") as client:
        await wait_for_tools(client, {"old_count_slowly"})
        era = (await client.call_tool("health_check", {})).structured_content["packs"]["remotes.old"]["detail"]
        assert era.startswith("up, protocol 2026-07-28" if remote.modern else "up, protocol 2025-")
        with anyio.move_on_after(1.0):
            await client.call_tool("old_count_slowly", {"steps": 50})
        with anyio.fail_after(10):
            while "cancelled count_slowly 50" not in remote.event_lines():
                await anyio.sleep(0.1)
        assert (await client.call_tool("old_shout", {"text": "still here"})).content[0].text == "STILL HERE"


def test_stdout_carries_only_json_rpc_while_forwarding(tmp_path: Path, cloud: CloudRemote) -> None:
    """Remote connects, retries and relays log to stderr; stdout holds JSON-RPC messages only, DEBUG or not."""
    import json
    import subprocess
    import time

    from tests.conftest import ROOT

    params = hybrid_params(
        tmp_path, cloud_config(cloud) + toml_remote("dead", "http://127.0.0.1:9/mcp"), "--log-level", "DEBUG"
    )
    process = subprocess.Popen(
        [params.command, *params.args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=params.env,
        cwd=ROOT,
    )
    assert process.stdin is not None and process.stdout is not None

    def send(message: dict) -> None:
        process.stdin.write(json.dumps(message) + "\n")
        process.stdin.flush()

    try:
        send(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "raw", "version": "1"},
                },
            }
        )
        assert json.loads(process.stdout.readline())["result"]["capabilities"]["tools"]["listChanged"] is True
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        deadline = time.monotonic() + 20
        answer: dict = {}
        request_id = 2
        while time.monotonic() < deadline:  # until the remote is connected and its echo answers
            send(
                {
                    "jsonrpc": "2.0",
                    "id": request_id,
                    "method": "tools/call",
                    "params": {"name": "team_echo", "arguments": {"message": "raw"}},
                }
            )
            while True:
                answer = json.loads(process.stdout.readline())  # notifications may come first: all JSON
                assert answer.get("jsonrpc") == "2.0"
                if answer.get("id") == request_id:
                    break
            if not answer["result"].get("isError"):
                break
            request_id += 1
            time.sleep(0.2)
        assert answer["result"]["content"][0]["text"] == "raw"
    finally:
        stdout, stderr = process.communicate(timeout=30)
    for line in stdout.splitlines():
        assert json.loads(line)["jsonrpc"] == "2.0"
    assert "remote dead: cannot reach the remote" in stderr and cloud.key not in stderr


async def test_remote_going_away_mid_session_is_reported_then_recovered(tmp_path: Path, legacy: LegacyRemote) -> None:
    async with Client(
        hybrid_params(tmp_path, legacy_config(legacy, retry_seconds="0.5", timeout_seconds="5")), mode="legacy"
    ) as client:
        await wait_for_tools(client, {"old_shout"})
        legacy.stop()
        failed = await client.call_tool("old_shout", {"text": "anyone?"})
        assert failed.is_error
        assert "remote 'old'" in failed.content[0].text
        with anyio.fail_after(15):
            while True:
                detail = (await client.call_tool("health_check", {})).structured_content["packs"]["remotes.old"][
                    "detail"
                ]
                if detail.startswith("optional, down"):
                    break
                await anyio.sleep(0.2)
        await anyio.to_thread.run_sync(legacy.start)
        with anyio.fail_after(20):
            while True:
                back = await client.call_tool("old_shout", {"text": "back"})
                if not back.is_error:
                    break
                await anyio.sleep(0.2)
        assert back.content[0].text == "BACK"


async def test_a_slow_remote_is_cut_off_at_its_timeout_and_told_to_stop(tmp_path: Path, legacy: LegacyRemote) -> None:
    async with Client(hybrid_params(tmp_path, legacy_config(legacy, timeout_seconds="1")), mode="legacy") as client:
        await wait_for_tools(client, {"old_count_slowly"})
        slow = await client.call_tool("old_count_slowly", {"steps": 30})
        assert (
            slow.is_error and slow.content[0].text == "remote 'old' did not answer within 1 s; the call was cancelled"
        )
        with anyio.fail_after(10):
            while "cancelled count_slowly 30" not in legacy.event_lines():
                await anyio.sleep(0.1)
        assert (await client.call_tool("old_shout", {"text": "fine"})).content[0].text == "FINE"


async def test_remote_tools_go_through_the_local_pipeline(tmp_path: Path, cloud: CloudRemote) -> None:
    """Scopes, per-tool rate limits and the audit log apply to remote tools as to local ones (stdio principal)."""
    import json

    audit = tmp_path / "audit.log"
    config = (
        '[auth]\nlocal_scopes = ["core:read", "remotes.team:read"]\ntool_scopes = { team_get_time = ["ops:admin"] }\n'
        '[limits]\ntool_rates = { team_echo = "1/minute" }\n'
        f'[audit]\nenabled = true\nsink = "file"\nfile = "{audit}"\n'
    ) + cloud_config(cloud)
    async with Client(hybrid_params(tmp_path, config), mode="legacy") as client:
        names = await wait_for_tools(client, {"team_echo"})
        assert "team_get_time" not in names  # needs ops:admin, which the local principal does not have
        first = await client.call_tool("team_echo", {"message": "one"})
        assert first.content[0].text == "one"
        with pytest.raises(MCPError, match="rate limit of 1/minute for tool 'team_echo' exceeded"):
            await client.call_tool("team_echo", {"message": "two"})
        with pytest.raises(MCPError, match="tool 'team_get_time' needs scope 'ops:admin'"):
            await client.call_tool("team_get_time", {})
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    echoes = [r for r in records if r.get("tool") == "team_echo"]
    assert [r["outcome"] for r in echoes] == ["ok", "rate_limited"]
    assert [r["outcome"] for r in records if r.get("tool") == "team_get_time"] == ["denied"]
