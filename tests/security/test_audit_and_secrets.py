"""The audit log's records, and a real session whose every log line is searched for the secrets it used."""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

import httpx
import pytest
from mcp import Client
from security_helpers import (
    _in_process_build,
    bearer,
    connected,
    ec_key,
    issuer_server,
    post_call,
    rsa_key,
    subprocess_server,
)
from tests.wire import modern_call

from mcpcloud.config import AuditSettings
from mcpcloud.observability.audit import REDACTED, AuditLog, digest, redact
from mcpcloud.security.apikeys import mint
from mcpcloud.security.keystore import FileKeyStore

HEADER_DUMP = re.compile(r"(authorization|x-api-key)['\"]?\s*[:=,]", re.IGNORECASE)
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _records(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_redaction_of_secret_looking_fields() -> None:
    value = {
        "query": "select 1",
        "password": "p",
        "nested": [{"api_key": "k", "Authorization": "Bearer x"}],
        "client_secret": "s",
        "token_count": 3,
        "keyboard": "qwerty",
    }
    assert redact(value) == {
        "query": "select 1",
        "password": REDACTED,
        "nested": [{"api_key": REDACTED, "Authorization": REDACTED}],
        "client_secret": REDACTED,
        "token_count": REDACTED,
        "keyboard": "qwerty",
    }
    assert digest({"b": 1, "a": 2}) == digest({"a": 2, "b": 1})


async def test_audit_records_calls_with_outcomes_digests_and_opted_in_arguments(tmp_path: Path) -> None:
    audit_file = tmp_path / "audit" / "audit.log"
    server = _in_process_build(
        limits={"tool_timeouts": {"nap": 0.2}, "rate": "5/hour"},
        audit={"enabled": True, "sink": "file", "file": str(audit_file), "raw_arguments_tools": ["note"]},
        auth={"local_scopes": ["core:read", "slowtest:read", "slowtest:write"]},
    )
    async with Client(server.mcp) as session:
        await session.call_tool("echo", {"message": "hello"})
        await session.call_tool("note", {"text": "remember", "api_token": "tok-123"})
        await session.call_tool("nap", {"seconds": 5})
        await session.call_tool("get_time", {"timezone": "Mars/Olympus"})
        await session.call_tool("echo", {"message": "5th"})
        with pytest.raises(Exception, match="rate limit"):
            await session.call_tool("echo", {"message": "6th"})
    records = _records(audit_file)
    assert [(r["tool"], r["outcome"]) for r in records] == [
        ("echo", "ok"),
        ("note", "ok"),
        ("nap", "timeout"),
        ("get_time", "tool_error"),
        ("echo", "ok"),
        ("echo", "rate_limited"),
    ]
    for record in records:
        assert record["event"] == "audit" and record["principal"] == "local:local" and record["kind"] == "local"
        assert record["time"].endswith("+00:00") and record["arguments_digest"].startswith("sha256:")
    assert records[0]["arguments_digest"] == digest({"message": "hello"}) and "arguments" not in records[0]
    assert records[1]["arguments"] == {"text": "remember", "api_token": REDACTED}
    assert records[2]["duration_ms"] >= 0 and "rate limit" in records[5]["detail"]


def test_audit_lines_and_digests_keep_their_exact_bytes(tmp_path: Path) -> None:
    """The digest is SHA-256 of sorted, compact, non-ASCII-kept JSON, and a line is `json.dumps`'s layout."""
    arguments = {"z": [1.5, None, True], "a": "héllo", "n": {"y": 2, "b": "✓"}}
    canonical = '{"a":"héllo","n":{"b":"✓","y":2},"z":[1.5,null,true]}'
    assert digest(arguments) == "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    audit_file = tmp_path / "audit.log"
    audit = AuditLog(AuditSettings(sink="file", file=str(audit_file), raw_arguments_tools=["note"]))
    audit.record("ok", principal={"principal": "key:é", "kind": "api_key"}, name="note", arguments=arguments)
    audit.close()
    (line,) = audit_file.read_text(encoding="utf-8").splitlines()
    assert line == json.dumps(json.loads(line), ensure_ascii=False) and "héllo" in line


async def test_a_session_with_real_secrets_leaves_none_in_any_log_line(tmp_path: Path) -> None:
    audit_file = tmp_path / "audit.log"
    store = FileKeyStore(tmp_path / "keys.json")
    good, limited = mint("good", ["core:read"], None), mint("limited", ["core:read"], None)
    for new in (good, limited):
        await store.add(new.record)
    client_secret = "introspection-secret-Zq81xV"
    (tmp_path / "client-secret").write_text(client_secret + "\n")
    with issuer_server() as issuer:
        issuer.keys = [rsa_key("r1"), ec_key("e1")]
        issuer.introspection_auth = ("mcpcloud", client_secret)
        env = {
            "MCPCLOUD_LOG__LEVEL": "DEBUG",
            "MCPCLOUD_AUTH__MODES": "api_keys,oauth",
            "MCPCLOUD_AUTH__API_KEYS__FILE": str(tmp_path / "keys.json"),
            "MCPCLOUD_AUTH__OAUTH__ISSUER": issuer.url,
            "MCPCLOUD_AUTH__OAUTH__INTROSPECTION_URL": f"{issuer.url}/introspect",
            "MCPCLOUD_AUTH__OAUTH__INTROSPECTION_CLIENT_ID": "mcpcloud",
            "MCPCLOUD_AUTH__OAUTH__INTROSPECTION_CLIENT_SECRET_FILE": str(tmp_path / "client-secret"),
            "MCPCLOUD_AUTH__PRINCIPALS": json.dumps({f"key:{limited.record.id}": {"deny_tools": ["get_time"]}}),
            "MCPCLOUD_LIMITS__TOOL_RATES": json.dumps({"health_check": "1/hour"}),
            "MCPCLOUD_AUDIT__ENABLED": "true",
            "MCPCLOUD_AUDIT__SINK": "file",
            "MCPCLOUD_AUDIT__FILE": str(audit_file),
        }
        with subprocess_server(tmp_path, env) as server:
            jwt_token = issuer.token(issuer.keys[1], server.url, scope="core:read")
            expired_jwt = issuer.token(issuer.keys[0], server.url, exp=int(time.time()) - 100)
            opaque = "opaque-7Yq2LmNx"
            issuer.opaque_tokens[opaque] = {
                "active": True,
                "scope": "core:read",
                "sub": "carol",
                "aud": server.url,
                "iss": issuer.url,
                "exp": int(time.time()) + 60,
            }
            wrong_key = good.key[:-6] + "AAAAAA"
            headers = {**bearer(good.key), "traceparent": TRACEPARENT, "X-Request-Id": "req-42"}
            for mode in ("legacy", "2026-07-28"):
                async with connected(server.url, headers, mode) as session:
                    assert (await session.call_tool("echo", {"message": "hi"})).content[0].text == "hi"
                async with connected(server.url, bearer(jwt_token), mode) as session:
                    assert (await session.call_tool("get_time", {})).is_error is False
                async with connected(server.url, {"X-API-Key": good.key}, mode) as session:
                    await session.list_tools()
                async with connected(server.url, bearer(opaque), mode) as session:
                    await session.call_tool("echo", {"message": "opaque"})
            # A raw request: no SDK client that could add its own trace context to `_meta`
            # (it does once any test in this process installed an OpenTelemetry provider).
            wire_headers, wire_body = modern_call("echo", {"message": "traced"})
            traced_call = httpx.post(
                server.url,
                json=wire_body,
                headers={**wire_headers, **bearer(good.key), "traceparent": TRACEPARENT, "X-Request-Id": "req-43"},
            )
            assert traced_call.status_code == 200, traced_call.text
            for credential in (wrong_key, expired_jwt, "opaque-not-active"):
                assert post_call(server.url, bearer(credential), "echo", {"message": "x"}).status_code == 401
            assert post_call(server.url, bearer(limited.key), "get_time").status_code == 403
            async with connected(server.url, bearer(good.key)) as session:
                await session.call_tool("health_check", {})
            assert post_call(server.url, bearer(good.key), "health_check").status_code == 429
        log = server.log()

    audit_text = audit_file.read_text()
    assert log.count("\n") > 20  # DEBUG: plenty of lines to search
    secrets = {
        "api key": good.key,
        "api key secret": good.key[18:],
        "wrong api key": wrong_key[18:],
        "limited key": limited.key[18:],
        "jwt": jwt_token,
        "jwt signature": jwt_token.rsplit(".", 1)[1],
        "expired jwt": expired_jwt.rsplit(".", 1)[1],
        "opaque token": opaque,
        "introspection secret (file)": client_secret,
    }
    for line in (log + audit_text).splitlines():
        for name, secret in secrets.items():
            assert secret not in line, f"{name} leaked into a log line: {line[:200]}"
        assert "Bearer " not in line and not HEADER_DUMP.search(line), line[:200]

    outcomes = [(r.get("tool"), r["outcome"]) for r in _records(audit_file)]
    assert ("echo", "ok") in outcomes and ("get_time", "denied") in outcomes
    assert ("health_check", "rate_limited") in outcomes and outcomes.count((None, "unauthenticated")) == 3
    traced = [r for r in _records(audit_file) if r.get("request_id") == "req-43"]
    assert len(traced) == 1 and traced[0]["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    subjects = {r.get("subject") for r in _records(audit_file)}
    assert {"alice", "carol", f"key:{good.record.id}"} <= subjects
