"""Protocol edges from the outside audit (issue 14): lone surrogates, 406 bodies, stdio ids,
stdin closing with work in flight, SIGTERM on stdio, and a body shorter than its Content-Length."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.conftest import MCPCLOUD, ROOT, RunningServer, server_env, start_server
from tests.wire import LEGACY, legacy_initialize, modern_call

SURROGATE_ARGUMENTS = b'{"message": "a\\ud800b"}'


def assert_still_serving(server: RunningServer) -> None:
    headers, body = modern_call("echo", {"message": "ok"}, request_id=99)
    response = httpx.post(server.url, headers=headers, json=body)
    assert response.status_code == 200 and response.json()["result"]["content"][0]["text"] == "ok"


def with_surrogate(body: dict[str, Any]) -> bytes:
    """The JSON text of `body` with its `arguments` replaced by ones holding a lone surrogate escape."""
    return json.dumps(body).replace('{"message": "x"}', SURROGATE_ARGUMENTS.decode()).encode()


def assert_names_the_argument(error: dict[str, Any]) -> None:
    assert error["code"] == -32602
    assert error["message"].startswith("argument 'message' is not valid Unicode: a lone surrogate U+D800 at index 1")


def test_lone_surrogate_in_arguments_names_the_argument_on_the_modern_path(http_server: RunningServer) -> None:
    headers, body = modern_call("echo", {"message": "x"})
    response = httpx.post(http_server.url, headers=headers, content=with_surrogate(body))
    assert response.status_code < 500
    assert_names_the_argument(response.json()["error"])
    assert_still_serving(http_server)


def test_lone_surrogate_in_arguments_names_the_argument_in_a_legacy_session(http_server: RunningServer) -> None:
    headers, init = legacy_initialize()
    opened = httpx.post(http_server.url, headers=headers, json=init)
    session = {**headers, "Mcp-Session-Id": opened.headers["mcp-session-id"], "MCP-Protocol-Version": LEGACY}
    httpx.post(http_server.url, headers=session, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
    call = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "echo", "arguments": {"message": "x"}},
    }
    response = httpx.post(http_server.url, headers={**session, "Accept": "application/json, text/event-stream"},
                          content=with_surrogate(call))  # fmt: skip
    assert response.status_code < 500
    text = response.text
    payload = json.loads(text[text.index("{") :].splitlines()[0]) if "data:" in text else response.json()
    assert_names_the_argument(payload["error"])
    assert_still_serving(http_server)


@pytest.mark.parametrize("accept", [None, "text/html"], ids=["missing", "html"])
def test_not_acceptable_is_406_with_a_json_rpc_body(http_server: RunningServer, accept: str | None) -> None:
    headers, body = modern_call("echo", {"message": "x"})
    headers = {k: v for k, v in headers.items() if k != "Accept"} | ({"Accept": accept} if accept else {})
    response = _post_raw(http_server, headers, body)  # raw: httpx would add `Accept: */*`
    assert response.status_code == 406
    assert response.json()["id"] is None and response.json()["error"]["code"] == -32600
    message = response.json()["error"]["message"]
    assert "application/json" in message and "text/event-stream" in message
    assert_still_serving(http_server)


def _post_raw(server: RunningServer, headers: dict[str, str], body: dict[str, Any]) -> httpx.Response:
    payload = json.dumps(body).encode()
    lines = ["POST /mcp HTTP/1.1", f"Host: 127.0.0.1:{server.port}", f"Content-Length: {len(payload)}",
             "Connection: close", *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, rest = raw.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    return httpx.Response(status, content=rest, headers={"content-type": "application/json"})


def test_legacy_not_acceptable_keeps_its_json_rpc_body(http_server: RunningServer) -> None:
    headers, body = legacy_initialize()
    response = httpx.post(http_server.url, headers={**headers, "Accept": "text/html"}, json=body)
    assert response.status_code == 406
    assert "Not Acceptable" in response.json()["error"]["message"]


# ----------------------------------------------------------------------------------------- body timeout


@pytest.fixture(scope="module")
def impatient_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("body"), env={"MCPCLOUD_HTTP__BODY_TIMEOUT_SECONDS": "1"})
    yield server
    server.stop()


def test_a_body_shorter_than_its_content_length_gets_408_and_the_connection_closes(
    impatient_server: RunningServer,
) -> None:
    headers, body = modern_call("echo", {"message": "x"})
    payload = json.dumps(body).encode()
    head = ["POST /mcp HTTP/1.1", f"Host: 127.0.0.1:{impatient_server.port}", f"Content-Length: {len(payload) + 500}",
            *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
    with socket.create_connection(("127.0.0.1", impatient_server.port), timeout=20) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        raw = b""
        while chunk := sock.recv(65536):  # ends when the server closes the connection
            raw += chunk
    status_line, _, rest = raw.partition(b"\r\n")
    assert b" 408 " in status_line
    body_text = rest.partition(b"\r\n\r\n")[2]
    error = json.loads(body_text)["error"]
    assert "request body not received within 1 s" in error["message"]
    assert_still_serving(impatient_server)


def test_a_slow_but_complete_body_is_served(impatient_server: RunningServer) -> None:
    headers, body = modern_call("echo", {"message": "slow"})
    payload = json.dumps(body).encode()
    head = ["POST /mcp HTTP/1.1", f"Host: 127.0.0.1:{impatient_server.port}", f"Content-Length: {len(payload)}",
            "Connection: close", *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
    with socket.create_connection(("127.0.0.1", impatient_server.port), timeout=20) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + payload[:10])
        time.sleep(0.3)
        sock.sendall(payload[10:])
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    assert b" 200 " in raw.partition(b"\r\n")[0] and b'"slow"' in raw


# ----------------------------------------------------------------------------------------- stdio


def spawn_stdio() -> subprocess.Popen[str]:
    return subprocess.Popen(
        [MCPCLOUD, "serve", "--transport", "stdio", "--packs", "core,tests.packs.slow"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=server_env(), cwd=ROOT,
    )  # fmt: skip


INITIALIZE = json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
    "protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}})  # fmt: skip
INITIALIZED = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})


def slow_call(request_id: int, seconds: float = 0.5) -> str:
    arguments = {"seconds": seconds, "message": f"m{request_id}"}
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
                       "params": {"name": "sleep_then_echo", "arguments": arguments}})  # fmt: skip


def answers(stdout: str) -> dict[Any, dict[str, Any]]:
    return {message.get("id"): message for message in map(json.loads, filter(str.strip, stdout.splitlines()))}


@pytest.mark.parametrize("bad_id", [{"a": 1}, [1], 1.5, True], ids=["object", "array", "fraction", "bool"])
def test_stdio_request_with_a_forbidden_id_gets_invalid_request_with_id_null(bad_id: Any) -> None:
    process = spawn_stdio()
    bad = json.dumps({"jsonrpc": "2.0", "id": bad_id, "method": "ping"})
    stdout, stderr = process.communicate("\n".join([INITIALIZE, INITIALIZED, bad, slow_call(7, 0)]) + "\n", timeout=60)
    replies = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    refused = [r for r in replies if r.get("id") is None]
    assert len(refused) == 1 and refused[0]["error"]["code"] == -32600
    assert "`id` must be a string or an integer" in refused[0]["error"]["message"]
    assert answers(stdout)[7]["result"]["content"][0]["text"] == "m7"  # still serving afterwards
    assert process.returncode == 0, stderr


def test_stdio_answers_every_request_written_before_stdin_closed() -> None:
    process = spawn_stdio()
    requests = [slow_call(i) for i in range(1, 51)]
    stdout, stderr = process.communicate("\n".join([INITIALIZE, INITIALIZED, *requests]) + "\n", timeout=120)
    replies = answers(stdout)
    assert sorted(k for k in replies if k) == list(range(1, 51))
    assert all(replies[i]["result"]["content"][0]["text"] == f"m{i}" for i in range(1, 51))
    assert process.returncode == 0, stderr


def test_stdio_sigterm_finishes_in_flight_work_and_exits_0() -> None:
    process = spawn_stdio()
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(INITIALIZE + "\n")
    process.stdin.flush()
    assert json.loads(process.stdout.readline())["id"] == 0
    process.stdin.write("\n".join([INITIALIZED, slow_call(1, 1.5), slow_call(2, 1.5)]) + "\n")
    process.stdin.flush()
    time.sleep(0.5)  # both calls are running
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    replies = answers(stdout)
    assert replies[1]["result"]["content"][0]["text"] == "m1"
    assert replies[2]["result"]["content"][0]["text"] == "m2"
    assert process.returncode == 0, stderr


def test_stdio_lone_surrogate_names_the_argument() -> None:
    process = spawn_stdio()
    call = ('{"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "echo", "arguments": '
            + SURROGATE_ARGUMENTS.decode() + "}}")  # fmt: skip
    stdout, stderr = process.communicate("\n".join([INITIALIZE, INITIALIZED, call, slow_call(6, 0)]) + "\n", timeout=60)
    replies = answers(stdout)
    assert_names_the_argument(replies[5]["error"])
    assert replies[6]["result"]["content"][0]["text"] == "m6"
    assert process.returncode == 0, stderr
