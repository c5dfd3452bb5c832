"""The fast path answers exactly as the SDK path does: one corpus, two real servers, JSON-equal answers.

Both servers run the same configuration (API keys with two visibility classes, a per-tool rate
limit, audit, metrics, a small body limit, the `core` and `tests.packs.shapes` packs); one has
`http.fast_path` on (the default), the other off. Every request of the corpus goes to both, in
the same order, and the status, the content type, the policy headers and the JSON-RPC answer must
match; only what is legitimately random (uptime, the current time, Retry-After seconds) is
normalised. Afterwards the audit records and the request metrics must match too.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from tests.conftest import RunningServer, start_server
from tests.wire import ACCEPT, MODERN, modern_envelope

from mcpcloud.security.apikeys import mint
from mcpcloud.security.keystore import FileKeyStore

MAX_BODY = 8192


@dataclass
class Case:
    name: str
    method: str = "tools/call"
    params: Any = None
    tool: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    extra_headers: list[tuple[str, str]] = field(default_factory=list)
    drop_headers: tuple[str, ...] = ()
    message: dict[str, Any] | None = None  # the whole body, instead of one built from method/params
    raw: bytes | None = None  # the raw body
    key: str = "full"
    fast: bool = False  # the fast path answers it (with it on); everything else goes to the SDK


def fast(case: Case) -> Case:
    case.fast = True
    return case


def call(tool: str, arguments: Any = None, **kw: Any) -> Case:
    params: dict[str, Any] = {"name": tool, "_meta": modern_envelope()}
    if arguments is not None:
        params["arguments"] = arguments
    return Case(f"{tool} {json.dumps(arguments)[:40]}", params=params, tool=tool, **kw)


def envelope(name: str, fast: bool = False, **members: Any) -> Case:
    """An echo call whose JSON-RPC envelope members (`id`, `jsonrpc`, extra ones) are replaced by `members`."""
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "echo", "arguments": {"message": name}, "_meta": modern_envelope()},
    }
    message.update(members)
    return Case(name, tool="echo", message=message, fast=fast)


def listing(method: str, **kw: Any) -> Case:
    return Case(method, method=method, params={"_meta": modern_envelope()}, **kw)


def with_meta(case: Case, **changes: Any) -> Case:
    meta = {**case.params["_meta"], **changes}
    meta = {k: v for k, v in meta.items() if v is not None}
    case.params = {**case.params, "_meta": meta}
    case.name += f" meta={sorted(changes)}"
    return case


CORPUS: list[Case] = [
    # Answered by the fast path.
    fast(call("echo", {"message": "hello"})),
    fast(call("echo", {"message": "héllo wörld ✓ 日本語 🎉"})),
    fast(call("echo", {"message": ""})),
    fast(call("get_time", {"timezone": "Europe/Paris"})),
    fast(call("get_time", {})),
    fast(call("health_check")),
    fast(call("add", {"a": 2, "b": 40})),
    fast(call("add", {"a": "5"})),  # pydantic's lax mode coerces the string
    fast(call("summarize", {"values": [1, 2.5], "labels": ["a"]})),
    fast(call("summarize", {"values": "[1, 2, 3]"})),  # JSON-encoded list, decoded first as the SDK does
    fast(call("move", {"point": {"x": 1, "y": 2}})),
    fast(call("move", {"point": '{"x": 5}', "dx": 3})),
    fast(call("listing", {"n": 3})),
    fast(call("listing", {"n": 0})),
    fast(call("nothing")),
    fast(call("short_text", {"message": "abc"})),
    fast(call("short_text", {"message": "much too long"})),  # fails the declared output: isError
    fast(call("plain_text", {"message": "one"})),
    fast(call("plain_text", {"message": "two ✓"})),
    fast(call("echo", {"message": "after the first text result, the shortcut"})),
    fast(listing("tools/list")),
    fast(listing("tools/list", key="limited")),  # another visibility class: the shapes tools are hidden
    fast(listing("tools/list")),
    fast(listing("server/discover")),
    fast(with_meta(call("echo", {"message": "no client info"}), **{"io.modelcontextprotocol/clientInfo": None})),
    envelope("string id", fast=True, id="req-7"),
    Case(
        "id zero",
        fast=True,
        method="tools/list",
        message={"jsonrpc": "2.0", "id": 0, "method": "tools/list", "params": {"_meta": modern_envelope()}},
    ),
    fast(call("echo", {"message": "accept */*"}, headers={"Accept": "*/*"})),
    fast(call("echo", {"message": "charset"}, headers={"Content-Type": "application/json; charset=utf-8"})),
    # Tool failures: isError results.
    fast(call("echo", {"message": 5})),
    fast(call("echo", {})),
    fast(call("echo", {"message": "x", "extra": 1})),
    fast(call("echo")),
    fast(call("get_time", {"timezone": "Mars/Olympus"})),
    fast(call("add", {"a": "five"})),
    fast(call("summarize", {"values": "not json"})),
    fast(call("refuse", {"reason": "because"})),
    fast(call("crash")),
    fast(call("sleep_then_echo", {"seconds": 5, "message": "late"})),  # the timeout wrapper answers itself
    # Policy refusals (decided in front of either path).
    call("add", {"a": 1}),  # the fourth `add` within the minute is rate limited (3/minute; the failed one counts)
    call("add", {"a": 1}),
    call("listing", {"n": 1}, key="limited"),  # 403: needs shapes:read
    call("echo", {"message": "no key"}, key="none"),
    # Not for the fast path: the SDK answers both.
    call("with_context", {"message": "ctx"}),
    call("no_such_tool", {"x": 1}),
    with_meta(call("echo", {"message": "progress"}), progressToken="p-1"),
    with_meta(call("echo", {"message": "log level"}), **{"io.modelcontextprotocol/logLevel": "debug"}),
    Case("cursor", method="tools/list", params={"cursor": "abc", "_meta": modern_envelope()}),
    call("echo", {"message": "name mismatch"}, headers={"Mcp-Name": "get_time"}),
    call("echo", {"message": "method mismatch"}, headers={"Mcp-Method": "tools/list"}),
    call("echo", {"message": "no name header"}, drop_headers=("Mcp-Name",)),
    call("echo", {"message": "dup method"}, extra_headers=[("Mcp-Method", "tools/call")]),
    call("echo", {"message": "version mismatch"}, headers={"MCP-Protocol-Version": "2099-01-01"}),
    with_meta(call("echo", {"message": "unsupported"}), **{"io.modelcontextprotocol/protocolVersion": "2099-01-01"}),
    with_meta(call("echo", {"message": "no caps"}), **{"io.modelcontextprotocol/clientCapabilities": None}),
    Case("no _meta", params={"name": "echo", "arguments": {"message": "x"}}, tool="echo"),
    call("echo", {"message": "json only"}, headers={"Accept": "application/json"}),
    call("echo", {"message": "sse only"}, headers={"Accept": "text/event-stream"}),
    call("echo", {"message": "text/plain"}, headers={"Content-Type": "text/plain"}),
    call("echo", {"message": "param header"}, extra_headers=[("Mcp-Param-Message", "x")]),
    call("echo", ["not", "an", "object"]),
    Case("name not a string", params={"name": ["echo"], "_meta": modern_envelope()}, tool="echo"),
    Case("params not an object", params=["echo"], tool="echo"),
    Case("parse error", raw=b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", ', tool="echo"),
    Case(
        "lone surrogate",
        raw=b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo",'
        b'"arguments":{"message":"\\ud800"},"_meta":' + json.dumps(modern_envelope()).encode() + b"}}",
        tool="echo",
    ),
    Case("batch", raw=b"[]", tool="echo"),
    Case(
        "notification",
        message={"jsonrpc": "2.0", "method": "tools/call", "params": {"name": "echo", "_meta": modern_envelope()}},
        tool="echo",
    ),
    envelope("null id", id=None),
    envelope("bool id", id=True),
    envelope("float id", id=1.5),
    envelope("huge id", id=10**30),  # beyond 64 bits: orjson refuses it, so the SDK answers
    envelope("jsonrpc 1.0", jsonrpc="1.0"),
    envelope("extra member", extra=True),
    # 413; the server may close the connection before reading the rest, so none is kept for reuse
    call("echo", {"message": "x" * (MAX_BODY + 10)}, headers={"Connection": "close"}),
    Case("unknown method", method="foo/bar", params={"_meta": modern_envelope()}),
    fast(call("echo", {"message": "still serving"})),
]


def _request(case: Case, keys: dict[str, str]) -> tuple[list[tuple[str, str]], bytes]:
    headers = {
        "Content-Type": "application/json",
        "Accept": ACCEPT,
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": case.method,
    }
    if case.tool is not None:
        headers["Mcp-Name"] = case.tool
    if keys.get(case.key):
        headers["Authorization"] = f"Bearer {keys[case.key]}"
    headers.update(case.headers)
    for name in case.drop_headers:
        headers.pop(name, None)
    if case.raw is not None:
        body = case.raw
    else:
        message = case.message or {"jsonrpc": "2.0", "id": 1, "method": case.method, "params": case.params}
        body = json.dumps(message).encode()
    return [*headers.items(), *case.extra_headers], body


_RANDOM = {"uptime_seconds", "iso", "unix", "utc_offset", "retryAfterSeconds"}
_RETRY_AFTER_TEXT = re.compile(r"retry after [0-9.]+ s")


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "<random>" if k in _RANDOM else _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, str) and value.startswith("{"):
        try:
            return {"<json text>": _normalise(json.loads(value))}
        except ValueError:
            return value
    if isinstance(value, str):
        return _RETRY_AFTER_TEXT.sub("retry after <seconds> s", value)
    return value


def _answer(response: httpx.Response) -> dict[str, Any]:
    content_type = response.headers.get("content-type", "")
    payload: Any
    if content_type.startswith("text/event-stream"):
        payload = [json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data:")]
    else:
        try:
            payload = response.json() if response.content else None
        except ValueError:
            payload = response.text
    retry_after = response.headers.get("retry-after")
    return {
        "status": response.status_code,
        "content_type": content_type,
        "www_authenticate": response.headers.get("www-authenticate"),
        "retry_after": None if retry_after is None else "<seconds>",
        "payload": _normalise(payload),
    }


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, RunningServer, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("fastpath")
    store = FileKeyStore(tmp / "keys.json")
    keys = {"none": ""}
    for name, scopes in (("full", ["*"]), ("limited", ["core:read"])):
        new_key = mint(name, scopes, None)
        anyio.run(store.add, new_key.record)
        keys[name] = new_key.key
    common = {
        "MCPCLOUD_PACKS": "core,tests.packs.shapes,tests.packs.slow",
        "MCPCLOUD_LIMITS__TOOL_TIMEOUTS": json.dumps({"sleep_then_echo": 0.3}),
        "MCPCLOUD_AUTH__MODES": "api_keys",
        "MCPCLOUD_AUTH__API_KEYS__FILE": str(tmp / "keys.json"),
        "MCPCLOUD_LIMITS__TOOL_RATES": json.dumps({"add": "3/minute"}),
        "MCPCLOUD_HTTP__MAX_BODY_BYTES": str(MAX_BODY),
        "MCPCLOUD_AUDIT__ENABLED": "true",
        "MCPCLOUD_AUDIT__SINK": "file",
        "MCPCLOUD_LOG__LEVEL": "DEBUG",
    }
    fast = start_server(tmp, env={**common, "MCPCLOUD_AUDIT__FILE": str(tmp / "audit-fast.log")})
    sdk = start_server(
        tmp, env={**common, "MCPCLOUD_AUDIT__FILE": str(tmp / "audit-sdk.log"), "MCPCLOUD_HTTP__FAST_PATH": "false"}
    )
    yield fast, sdk, keys
    fast.stop()
    sdk.stop()


def _client() -> httpx.Client:
    """A new connection per request: on a loaded machine an idle keep-alive connection can outlive uvicorn's
    5 s keep-alive timeout between two requests, and the reuse race then fails a request on either path."""
    return httpx.Client(timeout=30, limits=httpx.Limits(max_keepalive_connections=0))


def _fast_answers(server: RunningServer, at_least: int = 0) -> int:
    """How many answers the fast path logged; waits briefly for `at_least` (the line follows the response)."""
    deadline = time.monotonic() + 2
    while True:
        count = server.log().count("fast path answered")
        if count >= at_least or time.monotonic() > deadline:
            return count
        time.sleep(0.02)


def test_every_request_of_the_corpus_gets_the_same_answer_both_ways(servers: Any, tmp_path: Path) -> None:
    fast_server, sdk, keys = servers
    differences = []
    with _client() as client:
        for case in CORPUS:
            headers, body = _request(case, keys)
            answered_before = _fast_answers(fast_server)
            answers = [_answer(client.post(server.url, headers=headers, content=body)) for server in (fast_server, sdk)]
            if answers[0] != answers[1]:
                differences.append(f"{case.name}:\n  fast path: {answers[0]}\n  SDK path:  {answers[1]}")
            # The fast path answered what it should and nothing else (it logs each answer at DEBUG).
            if _fast_answers(fast_server, at_least=answered_before + case.fast) != answered_before + case.fast:
                differences.append(f"{case.name}: {'not ' if case.fast else ''}answered by the fast path")
    assert not differences, "\n".join(differences)
    assert "fast path answered" not in sdk.log()

    # One audit record per decided call on both, with the same outcomes.
    def audit(name: str) -> list[tuple[Any, ...]]:
        records = [json.loads(line) for line in (fast_server.log_path.parent / name).read_text().splitlines()]
        return [(r.get("tool"), r.get("outcome"), r.get("principal")) for r in records]

    assert audit("audit-fast.log") == audit("audit-sdk.log")

    # The request metrics count the same requests with the same outcomes.
    def counts(server: RunningServer) -> list[str]:
        text = httpx.get(f"{server.base_url}/metrics").text
        return sorted(
            re.sub(r"\s.*$", "", line) + " " + line.split()[-1]
            for line in text.splitlines()
            if line.startswith("mcpcloud_mcp_requests_total")
        )

    assert counts(fast_server) == counts(sdk)
    assert any("tools/call" in line and 'tool="echo"' in line for line in counts(fast_server))


LEGACY = "2025-11-25"
LEGACY_CALLS: list[tuple[str, dict[str, Any], bool]] = [
    # (name, JSON-RPC params or a whole message under "message", answered by the fast path)
    ("echo", {"name": "echo", "arguments": {"message": "héllo ✓"}}, True),
    ("echo again", {"name": "echo", "arguments": {"message": "again"}}, True),
    ("structured", {"name": "summarize", "arguments": {"values": [1, 2]}}, True),
    ("sync tool", {"name": "listing", "arguments": {"n": 2}}, True),
    ("wrong type", {"name": "echo", "arguments": {"message": 1}}, True),
    ("tool error", {"name": "refuse", "arguments": {"reason": "no"}}, True),
    ("crash", {"name": "crash"}, True),
    ("timed out", {"name": "sleep_then_echo", "arguments": {"seconds": 5, "message": "late"}}, True),
    ("context tool", {"name": "with_context", "arguments": {"message": "c"}}, False),
    ("unknown tool", {"name": "nope"}, False),
    ("progress token", {"name": "echo", "arguments": {"message": "p"}, "_meta": {"progressToken": 3}}, False),
    ("denied", {"name": "listing", "arguments": {"n": 1}, "key": "limited"}, False),
]


def _legacy_session(client: httpx.Client, server: RunningServer, key: str) -> str:
    headers = {"Content-Type": "application/json", "Accept": ACCEPT, "Authorization": f"Bearer {key}"}
    opened = client.post(
        server.url,
        headers=headers,
        json={
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "diff", "version": "1"}},
        },
    )
    session_id = opened.headers["mcp-session-id"]
    headers.update({"Mcp-Session-Id": session_id, "MCP-Protocol-Version": LEGACY})
    assert (
        client.post(
            server.url, headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"}
        ).status_code
        == 202
    )
    return session_id


def test_a_handshake_era_session_gets_the_same_answers_both_ways(servers: Any) -> None:
    fast_server, sdk, keys = servers
    differences = []
    with _client() as client:
        sessions = {
            key: [_legacy_session(client, s, keys[key]) for s in (fast_server, sdk)] for key in ("full", "limited")
        }
        for request_id, (name, params, fast) in enumerate(LEGACY_CALLS, start=1):
            key = params.pop("key", "full")
            answered_before = _fast_answers(fast_server)
            answers = []
            for server, session_id in zip((fast_server, sdk), sessions[key], strict=True):
                headers = {
                    "Content-Type": "application/json",
                    "Accept": ACCEPT,
                    "Authorization": f"Bearer {keys[key]}",
                    "Mcp-Session-Id": session_id,
                    "MCP-Protocol-Version": LEGACY,
                }
                message = {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}
                answers.append(_answer(client.post(server.url, headers=headers, json=message)))
            if answers[0] != answers[1]:
                differences.append(f"{name}:\n  fast path: {answers[0]}\n  SDK path:  {answers[1]}")
            if _fast_answers(fast_server, at_least=answered_before + fast) != answered_before + fast:
                differences.append(f"{name}: {'not ' if fast else ''}answered by the fast path")
        # A wrong version header, an unknown session, another caller's, a deleted one: the SDK's answers on both.
        for name, change in (
            ("other version", {"MCP-Protocol-Version": "2025-06-18"}),
            ("unknown session", {"Mcp-Session-Id": "0" * 32}),
            # Someone else's credential on a session: 404, as if it did not exist (not the fast path's to answer).
            ("someone else's session", {"Authorization": f"Bearer {keys['limited']}"}),
        ):
            answers = []
            for server, session_id in zip((fast_server, sdk), sessions["full"], strict=True):
                headers = {
                    "Content-Type": "application/json",
                    "Accept": ACCEPT,
                    "Authorization": f"Bearer {keys['full']}",
                    "Mcp-Session-Id": session_id,
                    "MCP-Protocol-Version": LEGACY,
                    **change,
                }
                message = {
                    "jsonrpc": "2.0",
                    "id": 99,
                    "method": "tools/call",
                    "params": {"name": "echo", "arguments": {"message": "x"}},
                }
                answers.append(_answer(client.post(server.url, headers=headers, json=message)))
            if name == "someone else's session":
                assert answers[0]["status"] == 404, answers[0]
            if answers[0] != answers[1]:
                differences.append(f"{name}:\n  fast path: {answers[0]}\n  SDK path:  {answers[1]}")
        answers = []
        for server, session_id in zip((fast_server, sdk), sessions["full"], strict=True):
            headers = {
                "Accept": ACCEPT,
                "Authorization": f"Bearer {keys['full']}",
                "Mcp-Session-Id": session_id,
                "MCP-Protocol-Version": LEGACY,
            }
            assert client.delete(server.url, headers=headers).status_code == 200
            message = {
                "jsonrpc": "2.0",
                "id": 100,
                "method": "tools/call",
                "params": {"name": "echo", "arguments": {"message": "x"}},
            }
            answers.append(
                _answer(client.post(server.url, headers={**headers, "Content-Type": "application/json"}, json=message))
            )
        assert answers[0] == answers[1] and answers[0]["status"] == 404, answers
    assert not differences, "\n".join(differences)
