"""API keys: format, verification against both stores, the CLI, and keys over real HTTP with the SDK client."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis.asyncio
from click.testing import CliRunner
from security_helpers import bearer, connected, post_call, refused, serving, settings

from mcpcloud.cli import main
from mcpcloud.security import apikeys
from mcpcloud.security.apikeys import ApiKeyVerifier, InvalidKey, mint, parse_duration, revoked
from mcpcloud.security.keystore import FileKeyStore, RedisKeyStore


def secret_of(key: str) -> str:
    return key[len("mcpk_") + 13 :]


def test_a_key_has_a_prefix_an_id_and_256_bits_of_secret() -> None:
    new = mint("ci", ["core:read"], None)
    prefix, key_id, secret = new.key.split("_", 2)
    assert prefix == "mcpk" and key_id == new.record.id and len(key_id) == 12
    assert len(secret) == 43  # base64url of 32 random bytes
    assert secret not in json.dumps(new.record.to_json())  # only the hash is stored
    assert new.record.hash == apikeys.digest(secret)
    assert mint("ci", ["core:read"], None).key != new.key


@pytest.mark.parametrize("text, seconds", [("90d", 90 * 86400), ("12h", 43200), ("30m", 1800), ("2w", 1209600)])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "0d", "90", "d", "-1d", "1x"])
def test_bad_durations_are_named(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


async def _verify_cases(store) -> None:  # type: ignore[no-untyped-def]
    verifier = ApiKeyVerifier(store)
    good = mint("good", ["core:read"], timedelta(days=1))
    old = mint("old", ["core:read"], None, now=datetime.now(UTC) - timedelta(days=10))
    expired = mint("expired", ["core:read"], timedelta(days=1), now=datetime.now(UTC) - timedelta(days=2))
    gone = mint("gone", ["core:read"], None)
    for new in (good, old, expired, gone):
        await store.add(new.record)
    await store.replace(revoked(gone.record))

    principal = await verifier.verify(good.key)
    assert principal.id == f"key:{good.record.id}" and principal.scopes == {"core:read"}
    assert (await verifier.verify(old.key)).name == "old"  # no expiry: still valid

    wrong = good.key[:-4] + ("AAAA" if not good.key.endswith("AAAA") else "BBBB")
    with pytest.raises(InvalidKey, match="^invalid API key$"):
        await verifier.verify(wrong)
    unknown = "mcpk_000000000000_" + secret_of(good.key)
    with pytest.raises(InvalidKey, match="^invalid API key$"):
        await verifier.verify(good.key.replace(good.record.id, "000000000000"))
    for malformed in ("", "mcpk_", "mcpk_xyz_abc", good.key + "x", good.key.replace("mcpk_", "sk_"), unknown + "!"):
        with pytest.raises(InvalidKey, match="malformed API key"):
            await verifier.verify(malformed)
    with pytest.raises(InvalidKey, match=f"API key {expired.record.id} expired at"):
        await verifier.verify(expired.key)
    with pytest.raises(InvalidKey, match=f"API key {gone.record.id} was revoked"):
        await verifier.verify(gone.key)
    # A refusal changes nothing: the good key still works.
    assert (await verifier.verify(good.key)).name == "good"


async def test_file_store_verifies_valid_wrong_malformed_revoked_expired(tmp_path: Path) -> None:
    await _verify_cases(FileKeyStore(tmp_path / "keys.json"))
    assert oct((tmp_path / "keys.json").stat().st_mode & 0o777) == "0o600"


async def test_redis_store_verifies_valid_wrong_malformed_revoked_expired(redis_url: str, redis_prefix: str) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        await _verify_cases(RedisKeyStore(client, redis_prefix))
    finally:
        await client.aclose()


async def test_hashes_are_compared_in_constant_time_even_for_unknown_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileKeyStore(tmp_path / "keys.json")
    good = mint("good", ["core:read"], None)
    await store.add(good.record)
    compared: list[tuple[str, str]] = []
    real = apikeys.hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(apikeys.hmac, "compare_digest", spy)
    verifier = ApiKeyVerifier(store)
    await verifier.verify(good.key)
    for key in (good.key[:-1] + ("A" if good.key[-1] != "A" else "B"), good.key.replace(good.record.id, "0" * 12)):
        with pytest.raises(InvalidKey):
            await verifier.verify(key)
    # Every attempt, including the one whose id does not exist, went through one constant-time compare.
    assert len(compared) == 3
    assert compared[0][1] == good.record.hash and compared[2][1] != good.record.hash


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def _cli(*args: str, env: dict[str, str]) -> CliResult:
    """The real `mcpcloud keys` command, run in-process (a subprocess per call costs seconds)."""
    clean = {k: None for k in os.environ if k.startswith("MCPCLOUD_")}
    result = CliRunner().invoke(main, ["keys", *args], env={**clean, **env})
    return CliResult(result.exit_code, result.stdout, result.stderr)


@pytest.mark.parametrize("store", ["file", "redis"])
def test_keys_cli_create_list_revoke(store: str, tmp_path: Path, redis_url: str, redis_prefix: str) -> None:
    env = {
        "MCPCLOUD_AUTH__API_KEYS__STORE": store,
        "MCPCLOUD_AUTH__API_KEYS__FILE": str(tmp_path / "keys.json"),
        "MCPCLOUD_REDIS__URL": redis_url,
        "MCPCLOUD_REDIS__KEY_PREFIX": redis_prefix,
    }
    created = _cli("create", "--name", "ci", "--scopes", "core:read,core:write", "--expires", "90d", env=env)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("mcpk_") and key not in created.stderr
    listed = _cli("list", "--json", env=env)
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["scopes"], r["revoked_at"]) for r in rows] == [("ci", ["core:read", "core:write"], None)]
    assert secret_of(key) not in listed.stdout and "hash" not in rows[0]
    assert rows[0]["expires_at"] is not None
    assert _cli("revoke", rows[0]["id"], env=env).returncode == 0
    assert json.loads(_cli("list", "--json", env=env).stdout)[0]["revoked_at"] is not None
    missing = _cli("revoke", "nosuchkey", env=env)
    assert missing.returncode == 1 and "no API key with id 'nosuchkey'" in missing.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--name", "x", "--scopes", ""], "--scopes"),
        (["--name", "x", "--scopes", "a b"], "--scopes"),
        (["--name", "x", "--scopes", "a", "--expires", "soon"], "is not a duration"),
    ],
)
def test_keys_cli_refuses_bad_input(args: list[str], message: str, tmp_path: Path) -> None:
    result = _cli("create", *args, env={"MCPCLOUD_AUTH__API_KEYS__FILE": str(tmp_path / "keys.json")})
    assert result.returncode == 2 and message in result.stderr
    assert not (tmp_path / "keys.json").exists()


async def test_api_keys_over_http_with_the_sdk_client(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys.json")
    good = mint("good", ["core:read"], None)
    expired = mint("expired", ["core:read"], timedelta(days=1), now=datetime.now(UTC) - timedelta(days=2))
    for new in (good, expired):
        await store.add(new.record)
    config = settings(auth={"modes": "api_keys", "api_keys": {"file": str(tmp_path / "keys.json")}})
    with serving(config) as server:
        for mode in ("legacy", "2026-07-28"):
            async with connected(server.url, bearer(good.key), mode) as session:
                assert (await session.call_tool("echo", {"message": "hi"})).content[0].text == "hi"
            async with connected(server.url, {"X-API-Key": good.key}, mode) as session:
                assert (await session.call_tool("echo", {"message": "x"})).content[0].text == "x"

        refusals = {
            "no credential": ({}, "authentication required"),
            "wrong": (bearer(good.key[:-2] + "zz"), "invalid API key"),
            "malformed": (bearer("mcpk_nope"), "malformed API key"),
            "expired": (bearer(expired.key), "expired at"),
            "basic auth": ({"Authorization": "Basic dTpw"}, "must be 'Bearer"),
        }
        for name, (headers, message) in refusals.items():
            response = post_call(server.url, headers, "echo", {"message": "x"})
            assert response.status_code == 401, name
            assert message in response.json()["error"]["message"], name
            challenge = response.headers["www-authenticate"]
            assert challenge.startswith("Bearer ") and 'scope="' in challenge
            assert ("invalid_token" in challenge) == bool(headers), name
            async with connected(server.url, bearer(good.key)) as session:  # and the server is fine
                assert (await session.call_tool("echo", {"message": name})).content[0].text == name

        error = await refused(server.url, bearer(expired.key), mode="2026-07-28")
        assert "expired at" in error.message

        # Revocation takes effect on the next request (the file is re-read when it changes).
        await store.replace(revoked(good.record))
        response = post_call(server.url, bearer(good.key), "echo", {"message": "x"})
        assert response.status_code == 401 and "was revoked" in response.json()["error"]["message"]
        health = post_call(server.url.replace("/mcp", "/healthz"), {}, "echo")
        assert health.status_code in (200, 405)


def scraped(base_url: str, series: str) -> float:
    """The value of one series in the server's own /metrics (0 when not yet present)."""
    import httpx

    for line in httpx.get(f"{base_url}/metrics").text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return 0.0


async def test_refused_credentials_and_calls_are_counted_in_metrics(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys.json")
    narrow = mint("narrow", ["nothing:read"], None)
    await store.add(narrow.record)
    config = settings(auth={"modes": "api_keys", "api_keys": {"file": str(tmp_path / "keys.json")}})
    with serving(config) as server:
        base = server.url.removesuffix("/mcp")
        missing = 'mcpcloud_auth_failures_total{reason="missing_credentials"}'
        invalid = 'mcpcloud_auth_failures_total{reason="invalid_credentials"}'
        denied = 'mcpcloud_mcp_requests_total{method="tools/call",outcome="denied",tool="echo"}'
        before = {name: scraped(base, name) for name in (missing, invalid, denied)}
        assert post_call(server.url, {}, "echo", {"message": "x"}).status_code == 401
        assert post_call(server.url, bearer("mcpk_nope"), "echo", {"message": "x"}).status_code == 401
        assert post_call(server.url, bearer(narrow.key), "echo", {"message": "x"}).status_code == 403
        assert scraped(base, missing) == before[missing] + 1
        assert scraped(base, invalid) == before[invalid] + 1
        assert scraped(base, denied) == before[denied] + 1
