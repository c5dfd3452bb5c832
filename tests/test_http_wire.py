"""Wire-level behaviour of the HTTP endpoint, with a plain HTTP client."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import anyio
import httpx
import pytest
from tests.conftest import RunningServer, start_server
from tests.wire import legacy_initialize, modern_call

from mcpcloud.security.apikeys import mint
from mcpcloud.security.keystore import FileKeyStore


def assert_still_serving(server: RunningServer) -> None:
    headers, body = modern_call("echo", {"message": "ok"}, request_id=99)
    response = httpx.post(server.url, headers=headers, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["result"]["content"][0]["text"] == "ok"


def test_modern_tools_call_round_trip(http_server: RunningServer) -> None:
    headers, body = modern_call("echo", {"message": "wire"})
    response = httpx.post(http_server.url, headers=headers, json=body)
    assert response.status_code == 200
    assert response.json()["result"]["structuredContent"] == {"result": "wire"}


def test_foreign_origin_is_refused_with_403(http_server: RunningServer) -> None:
    headers, body = modern_call("echo", {"message": "x"})
    response = httpx.post(http_server.url, headers={**headers, "Origin": "https://evil.example"}, json=body)
    assert response.status_code == 403
    assert "https://evil.example" in response.json()["error"]["message"]
    assert_still_serving(http_server)


def test_loopback_origin_is_accepted(http_server: RunningServer) -> None:
    headers, body = modern_call("echo", {"message": "x"})
    response = httpx.post(
        http_server.url, headers={**headers, "Origin": f"http://localhost:{http_server.port}"}, json=body
    )
    assert response.status_code == 200


def test_foreign_host_is_refused_when_bound_to_loopback(http_server: RunningServer) -> None:
    headers, body = modern_call("echo", {"message": "x"})
    response = httpx.post(http_server.url, headers={**headers, "Host": "rebound.attacker.example"}, json=body)
    assert response.status_code == 421
    assert "rebound.attacker.example" in response.json()["error"]["message"]


def test_header_body_method_mismatch_is_400(http_server: RunningServer) -> None:
    headers, body = modern_call("echo", {"message": "x"})
    response = httpx.post(http_server.url, headers={**headers, "Mcp-Method": "tools/list"}, json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert "mcp-method" in error["message"].lower()
    assert_still_serving(http_server)


def test_oversized_body_is_413(http_server: RunningServer) -> None:
    headers, body = modern_call("echo", {"message": "x" * (5 * 1024 * 1024)})
    response = httpx.post(http_server.url, headers=headers, content=json.dumps(body))
    assert response.status_code == 413
    assert "too large" in response.text.lower()
    assert_still_serving(http_server)


def test_malformed_json_is_a_parse_error_with_400(http_server: RunningServer) -> None:
    headers, _ = modern_call("echo", {})
    response = httpx.post(http_server.url, headers=headers, content=b'{"jsonrpc": "2.0", "id": 1, "method": ')
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32700
    assert_still_serving(http_server)


@pytest.mark.parametrize("body", [b"[]", b'"just a string"', b'{"jsonrpc": "2.0", "id": 1}', b"null"])
def test_json_that_is_not_a_request_is_refused(http_server: RunningServer, body: bytes) -> None:
    headers, _ = modern_call("echo", {})
    response = httpx.post(http_server.url, headers=headers, content=body)
    assert 400 <= response.status_code < 500
    assert "error" in response.json()
    assert_still_serving(http_server)


def test_wrong_content_type_is_refused(http_server: RunningServer) -> None:
    headers, body = modern_call("echo", {"message": "x"})
    response = httpx.post(http_server.url, headers={**headers, "Content-Type": "text/plain"}, content=json.dumps(body))
    assert response.status_code in (400, 415)
    assert "content-type" in response.text.lower()


def test_get_on_the_modern_path_is_405(http_server: RunningServer) -> None:
    response = httpx.get(http_server.url, headers={"Accept": "text/event-stream", "MCP-Protocol-Version": "2026-07-28"})
    assert response.status_code == 405


def test_legacy_handshake_issues_a_session_id(http_server: RunningServer) -> None:
    headers, body = legacy_initialize()
    response = httpx.post(http_server.url, headers=headers, json=body)
    assert response.status_code == 200
    session_id = response.headers["mcp-session-id"]
    assert session_id
    unknown = httpx.post(
        http_server.url,
        headers={**headers, "Mcp-Session-Id": "not-a-session", "MCP-Protocol-Version": "2025-11-25"},
        json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    )
    assert unknown.status_code == 404
    deleted = httpx.delete(
        http_server.url, headers={"Mcp-Session-Id": session_id, "MCP-Protocol-Version": "2025-11-25"}
    )
    assert deleted.status_code in (200, 204)


def test_probes(http_server: RunningServer) -> None:
    assert httpx.get(f"{http_server.base_url}/healthz").json()["status"] == "alive"
    ready = httpx.get(f"{http_server.base_url}/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_off_loopback_any_host_but_only_allowed_origins(tmp_path: Path) -> None:
    # Off loopback authentication is mandatory (docs/SECURITY.md): the test uses an API key.
    new_key = mint("wire-test", ["*"], None)
    anyio.run(FileKeyStore(tmp_path / "keys.json").add, new_key.record)
    server = start_server(
        tmp_path,
        "--host",
        "0.0.0.0",
        env={
            "MCPCLOUD_HTTP__ALLOWED_ORIGINS": '["https://app.example"]',
            "MCPCLOUD_AUTH__MODES": "api_keys",
            "MCPCLOUD_AUTH__API_KEYS__FILE": str(tmp_path / "keys.json"),
        },
    )
    try:
        headers, body = modern_call("echo", {"message": "x"})
        headers["Authorization"] = f"Bearer {new_key.key}"
        assert httpx.post(server.url, headers={**headers, "Host": "mcp.team.example"}, json=body).status_code == 200
        allowed = httpx.post(server.url, headers={**headers, "Origin": "https://app.example"}, json=body)
        assert allowed.status_code == 200
        foreign = httpx.post(server.url, headers={**headers, "Origin": "http://127.0.0.1:1"}, json=body)
        assert foreign.status_code == 403
    finally:
        assert server.stop() == 0


def test_accept_header_required_by_transport(http_server: RunningServer) -> None:
    headers, body = legacy_initialize()
    response = httpx.post(http_server.url, headers={**headers, "Accept": "text/html"}, json=body)
    assert response.status_code == 406


def test_whitespace_around_mcp_header_values_is_not_part_of_them(http_server: RunningServer) -> None:
    # httpx refuses to send such headers, so this one goes over a raw socket.
    headers, body = modern_call("echo", {"message": "x"})
    headers.update({"Mcp-Name": "echo  ", "Mcp-Method": "tools/call \t"})
    payload = json.dumps(body).encode()
    head = "".join(f"{key}: {value}\r\n" for key, value in headers.items())
    request = (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{http_server.port}\r\n{head}"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    ).encode() + payload
    with socket.create_connection(("127.0.0.1", http_server.port), timeout=10) as sock:
        sock.sendall(request)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200"), reply[:300]
