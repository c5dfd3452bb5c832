"""The engine across its faces: resources and prompts under scopes and audit, one principal in every
record, shared-state faults as 503 / JSON-RPC errors, and `*_file` secrets in a pack's own settings."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from mcp import Client
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError
from security_helpers import (
    _find_mcp_error,
    _in_process_build,
    bearer,
    connected,
    issuer_server,
    rsa_key,
    serving,
    settings,
    subprocess_server,
    unique_prefix,
)
from tests.conftest import free_port, server_env, stdio_params
from tests.wire import modern_call

from mcpcloud.core.outcomes import FORBIDDEN_CODE, UNAVAILABLE_CODE
from mcpcloud.security.apikeys import mint
from mcpcloud.security.keystore import FileKeyStore

NOTES = "core,tests.packs.notes"


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def error_of(action: Callable[[], Awaitable[Any]]) -> MCPError:
    try:
        await action()
    except BaseException as exc:  # the client may wrap it in an exception group
        found = _find_mcp_error(exc)
        if found is None:
            raise
        return found
    raise AssertionError("the request was not refused")


async def _keys(path: Path, **scopes: list[str]) -> dict[str, Any]:
    store = FileKeyStore(path)
    minted = {name: mint(name, granted, None) for name, granted in scopes.items()}
    for new in minted.values():
        await store.add(new.record)
    return minted


def raw(url: str, headers: dict[str, str], method: str, params: dict[str, Any]) -> httpx.Response:
    body = {"jsonrpc": "2.0", "id": 9, "method": method, "params": params}
    return httpx.post(
        url,
        json=body,
        timeout=10,
        headers={"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18", **headers},
    )


async def test_resources_and_prompts_need_their_scope_and_are_audited(tmp_path: Path) -> None:
    keys = await _keys(
        tmp_path / "keys.json", outsider=["core:read"], reader=["notes:read"], insider=["notes:read", "notes:secret"]
    )
    audit_file = tmp_path / "audit.log"
    config = settings(
        packs=NOTES,
        auth={"modes": "api_keys", "api_keys": {"file": str(tmp_path / "keys.json")}},
        audit={"enabled": True, "sink": "file", "file": str(audit_file)},
    )
    with serving(config) as server:
        for mode in ("legacy", "2026-07-28"):
            async with connected(server.url, bearer(keys["outsider"].key), mode) as session:
                assert (await session.list_resources()).resources == []
                assert (await session.list_prompts()).prompts == []
                denied = await error_of(lambda: session.read_resource("notes://readme"))  # noqa: B023
                assert denied.code == FORBIDDEN_CODE
                assert (
                    denied.message
                    == "resource 'notes://readme' needs scope 'notes:read', which this credential does not have"
                )
                denied = await error_of(lambda: session.get_prompt("summarize", {"topic": "x"}))  # noqa: B023
                assert "prompt 'summarize' needs scope 'notes:read'" in denied.message
            async with connected(server.url, bearer(keys["reader"].key), mode) as session:
                assert [r.uri for r in (await session.list_resources()).resources] == ["notes://readme"]
                assert (await session.list_resource_templates()).resource_templates == []  # needs notes:secret
                assert (await session.read_resource("notes://readme")).contents[0].text.startswith("notes:")
                denied = await error_of(lambda: session.read_resource("notes://item/7"))  # noqa: B023
                assert "resource 'notes://item/7' needs scope 'notes:secret'" in denied.message
                prompt = await session.get_prompt("summarize", {"topic": "ops"})
                assert "Summarize the notes about ops." in prompt.messages[0].content.text
            async with connected(server.url, bearer(keys["insider"].key), mode) as session:
                templates = (await session.list_resource_templates()).resource_templates
                assert [t.uri_template for t in templates] == ["notes://item/{id}"]
                assert (await session.read_resource("notes://item/7")).contents[0].text == "note 7"
        refused = raw(server.url, bearer(keys["outsider"].key), "resources/read", {"uri": "notes://readme"})
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["data"] == {"requiredScope": "notes:read"}
        assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]

    outsider, reader = f"key:{keys['outsider'].record.id}", f"key:{keys['reader'].record.id}"
    seen = [
        (r["principal"], r.get("resource") or r.get("prompt"), r["outcome"])
        for r in records(audit_file)
        if "resource" in r or "prompt" in r
    ]
    for _ in range(2):  # both protocol eras
        for entry in [
            (outsider, "notes://readme", "denied"),
            (outsider, "summarize", "denied"),
            (reader, "notes://readme", "ok"),
            (reader, "notes://item/7", "denied"),
            (reader, "summarize", "ok"),
        ]:
            seen.remove(entry)
    assert (outsider, "notes://readme", "denied") in seen  # the raw 403 above
    prompt_record = next(r for r in records(audit_file) if r.get("prompt") == "summarize" and r["outcome"] == "ok")
    assert prompt_record["arguments_digest"].startswith("sha256:")


async def test_resources_and_prompts_are_scoped_without_http_too() -> None:
    server = _in_process_build(packs=NOTES, auth={"local_scopes": ["core:read"]})
    async with Client(server.mcp) as session:
        assert (await session.list_resources()).resources == []
        denied = await error_of(lambda: session.read_resource("notes://readme"))
        assert denied.code == FORBIDDEN_CODE and "needs scope 'notes:read'" in denied.message
        denied = await error_of(lambda: session.get_prompt("summarize", {"topic": "x"}))
        assert denied.code == FORBIDDEN_CODE


# --- one principal --------------------------------------------------------------------------------


def failure_principals(log: str) -> list[str]:
    """The `principal` of every log line about the failed get_time call."""
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return [line["principal"] for line in lines if "get_time" in line.get("event", "") and "failed" in line["event"]]


def bucket_principals(redis_url: str, prefix: str) -> set[str]:
    """Whose rate-limit buckets exist (each lives one emission interval: 6 min at 10/hour)."""
    client = redis.Redis.from_url(redis_url)
    try:
        buckets = prefix + "ratelimit:"  # the prefix also holds shared sessions, request-state keys, ...
        return {key.decode().removeprefix(buckets) for key in client.scan_iter(match=buckets + "*")}
    finally:
        client.close()


async def test_the_principal_is_one_name_in_logs_audit_and_rate_limits(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    keys = await _keys(tmp_path / "keys.json", ops=["core:read"])
    audit_file = tmp_path / "audit.log"
    shared = {
        "MCPCLOUD_LIMITS__RATE": "10/hour",
        "MCPCLOUD_LIMITS__BACKEND": "redis",
        "MCPCLOUD_REDIS__URL": redis_url,
        "MCPCLOUD_REDIS__KEY_PREFIX": redis_prefix,
        "MCPCLOUD_AUDIT__ENABLED": "true",
        "MCPCLOUD_AUDIT__SINK": "file",
        "MCPCLOUD_AUDIT__FILE": str(audit_file),
    }
    with issuer_server() as issuer:
        issuer.keys = [rsa_key("r1")]
        env = {
            **shared,
            "MCPCLOUD_AUTH__MODES": "api_keys,oauth",
            "MCPCLOUD_AUTH__API_KEYS__FILE": str(tmp_path / "keys.json"),
            "MCPCLOUD_AUTH__OAUTH__ISSUER": issuer.url,
        }
        with subprocess_server(tmp_path, env) as server:
            token = issuer.token(issuer.keys[0], server.url)  # sub alice, client_id desktop-app
            for credential in (keys["ops"].key, token):
                async with connected(server.url, bearer(credential), "2026-07-28") as session:
                    assert (await session.call_tool("get_time", {"timezone": "Moon/Base"})).is_error
        http_log = server.log()

    expected = [f"key:{keys['ops'].record.id}", "sub:alice"]
    assert failure_principals(http_log) == expected
    assert [r["principal"] for r in records(audit_file)] == expected
    assert bucket_principals(redis_url, redis_prefix) == set(expected)

    stdio_prefix = unique_prefix()
    errlog = tmp_path / "stdio.err"
    params = stdio_params(**{**shared, "MCPCLOUD_REDIS__KEY_PREFIX": stdio_prefix, "MCPCLOUD_LOG__FORMAT": "json"})
    try:
        with errlog.open("w") as err:
            async with Client(stdio_client(params, errlog=err)) as session:
                assert (await session.call_tool("get_time", {"timezone": "Moon/Base"})).is_error
        assert failure_principals(errlog.read_text()) == ["local:local"]
        assert [r["principal"] for r in records(audit_file)] == [*expected, "local:local"]
        assert bucket_principals(redis_url, stdio_prefix) == {"local:local"}
    finally:
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(match=stdio_prefix + "*"):
            client.delete(key)
        client.close()


# --- shared state that cannot answer ---------------------------------------------------------------


@contextmanager
def throwaway_redis(tmp_path: Path) -> Iterator[tuple[str, Callable[[], None], Callable[[], None]]]:
    """A redis-server of this test's own: (url, stop, start again on the same port)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        process.append(
            subprocess.Popen(
                [
                    binary,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(tmp_path),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=port, socket_connect_timeout=0.2).ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop() -> None:
        running = process.pop()
        running.send_signal(signal.SIGKILL)
        running.wait(10)

    start()
    try:
        yield f"redis://127.0.0.1:{port}/0", stop, start
    finally:
        while process:
            stop()


def echo(url: str, message: str) -> httpx.Response:
    headers, body = modern_call("echo", {"message": message})
    return httpx.post(url, json=body, headers=headers, timeout=10)


def unavailable_env(url: str) -> dict[str, str]:
    return {"MCPCLOUD_LIMITS__RATE": "100/minute", "MCPCLOUD_LIMITS__BACKEND": "redis", "MCPCLOUD_REDIS__URL": url}


async def test_a_rate_limit_store_that_is_down_is_a_503_naming_the_cause(tmp_path: Path) -> None:
    audit_file = tmp_path / "audit.log"
    with throwaway_redis(tmp_path) as (url, stop, start):
        env = {
            **unavailable_env(url),
            "MCPCLOUD_AUDIT__ENABLED": "true",
            "MCPCLOUD_AUDIT__SINK": "file",
            "MCPCLOUD_AUDIT__FILE": str(audit_file),
        }
        with subprocess_server(tmp_path, env) as server:
            assert echo(server.url, "up").status_code == 200
            stop()
            response = echo(server.url, "down")
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "5"
            error = response.json()["error"]
            assert error["code"] == UNAVAILABLE_CODE and error["data"]["cause"] == "cannot be reached"
            assert error["message"].startswith("rate limit unavailable: shared state (Redis) cannot be reached")
            metrics = httpx.get(f"{server.base_url}/metrics", timeout=10).text
            assert 'mcpcloud_mcp_requests_total{method="tools/call",outcome="unavailable",tool="echo"} 1.0' in metrics
            start()  # the server is healthy again once Redis is back
            assert echo(server.url, "back").status_code == 200
    outcomes = [(r["tool"], r["outcome"]) for r in records(audit_file)]
    assert outcomes == [("echo", "ok"), ("echo", "unavailable"), ("echo", "ok")]
    assert "cannot be reached" in records(audit_file)[1]["detail"]


async def test_a_rate_limit_store_that_is_down_is_a_json_rpc_error_on_stdio(tmp_path: Path) -> None:
    with throwaway_redis(tmp_path) as (url, stop, _):
        async with Client(stdio_client(stdio_params(**unavailable_env(url)))) as session:
            assert (await session.call_tool("echo", {"message": "up"})).content[0].text == "up"
            stop()
            error = await error_of(lambda: session.call_tool("echo", {"message": "down"}))
            assert error.code == UNAVAILABLE_CODE
            assert "rate limit unavailable: shared state (Redis) cannot be reached" in error.message
            assert error.data["retryAfterSeconds"] == 5 and error.data["cause"] == "cannot be reached"


# --- a pack's own secrets from files ----------------------------------------------------------------


async def test_a_packs_secret_setting_reads_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "notes-token"
    secret.write_text("tok-Zq81xV-7777\n")
    server = _in_process_build(packs=NOTES, pack={"notes": {"token_file": str(secret)}})
    async with Client(server.mcp) as session:
        assert (await session.call_tool("whoami", {})).content[0].text == "7777"

    env = server_env(MCPCLOUD_PACKS=NOTES, MCPCLOUD_PACK__NOTES__TOKEN_FILE=str(secret))
    shown = subprocess.run(
        [str(Path(stdio_params().command)), "config"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert shown.returncode == 0, shown.stderr
    assert "Zq81xV" not in shown.stdout + shown.stderr

    from mcpcloud.errors import ConfigError

    with pytest.raises(ConfigError, match=r"pack\.notes\.token_file: cannot read '.*missing'"):
        _in_process_build(packs=NOTES, pack={"notes": {"token_file": str(tmp_path / "missing")}})
