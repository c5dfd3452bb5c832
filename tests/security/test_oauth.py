"""OAuth 2.1 resource server against a real issuer on loopback (fresh RSA and EC keys), driven over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from security_helpers import (
    InProcessServer,
    Issuer,
    SigningKey,
    bearer,
    connected,
    ec_key,
    issuer_server,
    post_call,
    refused,
    rsa_key,
    serving,
    settings,
)

from mcpcloud.config import OAuthSettings
from mcpcloud.security.oauth import InvalidToken, OAuthVerifier, principal_from_claims


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    with issuer_server() as running:
        running.keys = [rsa_key("rsa-1"), ec_key("ec-1")]
        yield running


@pytest.fixture(scope="module")
def server(issuer: Issuer) -> Iterator[InProcessServer]:
    config = settings(auth={"modes": "oauth", "oauth": {"issuer": issuer.url, "jwks_min_refresh_seconds": 0}})
    with serving(config) as running:
        yield running


def audience(server: InProcessServer) -> str:
    return server.url


async def assert_still_serves(server: InProcessServer, issuer: Issuer) -> None:
    token = issuer.token(issuer.keys[0], audience(server))
    async with connected(server.url, bearer(token)) as session:
        assert (await session.call_tool("echo", {"message": "ok"})).content[0].text == "ok"


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
@pytest.mark.parametrize("key_index", [0, 1], ids=["RS256", "ES256"])
async def test_valid_tokens_signed_with_rsa_and_ec_keys(
    server: InProcessServer, issuer: Issuer, key_index: int, mode: str
) -> None:
    token = issuer.token(issuer.keys[key_index], audience(server), scope="core:read slowtest:read")
    async with connected(server.url, bearer(token), mode) as session:
        names = {t.name for t in (await session.list_tools()).tools}
        assert names == {"echo", "get_time", "health_check", "nap", "hold"}  # not `note`: it needs slowtest:write
        assert (await session.call_tool("echo", {"message": "héllo"})).content[0].text == "héllo"


def _bad_tokens(issuer: Issuer, aud: str) -> dict[str, tuple[str, str]]:
    rsa = issuer.keys[0]
    now = int(time.time())
    good = issuer.token(rsa, aud)
    head, payload, signature = good.split(".")
    tampered_payload = issuer.token(rsa, aud, sub="root").split(".")[1]
    return {
        "expired": (issuer.token(rsa, aud, iat=now - 600, exp=now - 120), "token expired"),
        "not yet valid": (issuer.token(rsa, aud, nbf=now + 600), "not valid yet"),
        "wrong audience": (issuer.token(rsa, "http://elsewhere.example/mcp"), "audience is not this server"),
        "wrong issuer": (issuer.token(rsa, aud, iss="https://evil.example"), "issuer is not"),
        "alg none": (issuer.unsigned(rsa.kid, aud), "algorithm 'none' is not accepted"),
        "HS256 with the public key": (
            issuer.unsigned(rsa.kid, aud, alg="HS256", secret=rsa.public_pem),
            "algorithm 'HS256' is not accepted",
        ),
        "RS256 under an EC key's kid": (
            issuer.token(SigningKey(issuer.keys[1].kid, "RS256", rsa.private), aud),
            "does not match the signing key's type",
        ),
        "tampered signature": (f"{head}.{payload}.{signature[:-6]}AAAAAA", "signature does not verify"),
        "tampered payload": (f"{head}.{tampered_payload}.{signature}", "signature does not verify"),
        "no exp": (issuer.token(rsa, aud, exp=None), "lacks the 'exp' claim"),
        "garbage": ("a.b.c", "malformed JWT"),
        "opaque without introspection": ("opaque-token-value", "not a JWT"),
    }


async def test_bad_tokens_get_401_with_a_challenge_and_the_server_stays_healthy(
    server: InProcessServer, issuer: Issuer
) -> None:
    for name, (token, message) in _bad_tokens(issuer, audience(server)).items():
        response = post_call(server.url, bearer(token), "echo", {"message": "x"})
        assert response.status_code == 401, name
        assert message in response.json()["error"]["message"], name
        challenge = response.headers["www-authenticate"]
        assert 'error="invalid_token"' in challenge, name
        assert f'resource_metadata="{server.base_url}/.well-known/oauth-protected-resource/mcp"' in challenge
        assert token not in response.text and token not in challenge
        await assert_still_serves(server, issuer)


async def test_the_sdk_client_sees_the_refusal(server: InProcessServer, issuer: Issuer) -> None:
    expired = issuer.token(issuer.keys[1], audience(server), exp=int(time.time()) - 120)
    for mode in ("legacy", "2026-07-28"):
        assert "token expired" in (await refused(server.url, bearer(expired), mode)).message
    await assert_still_serves(server, issuer)


def test_no_token_gets_a_challenge_pointing_at_the_metadata(server: InProcessServer) -> None:
    response = post_call(server.url, {}, "echo")
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and "error=" not in challenge
    assert 'scope="core:read slowtest:read slowtest:write"' in challenge
    assert f'resource_metadata="{server.base_url}/.well-known/oauth-protected-resource/mcp"' in challenge


@pytest.mark.parametrize("path", ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"])
def test_protected_resource_metadata_at_both_paths_without_a_token(
    server: InProcessServer, issuer: Issuer, path: str
) -> None:
    response = httpx.get(server.base_url + path)
    assert response.status_code == 200
    document = response.json()
    assert document["resource"] == server.url
    assert document["authorization_servers"] == [issuer.url]
    assert document["scopes_supported"] == ["core:read", "slowtest:read", "slowtest:write"]
    assert document["bearer_methods_supported"] == ["header"]
    for probe in ("/healthz", "/readyz"):
        assert httpx.get(server.base_url + probe).status_code == 200


async def test_missing_scope_is_403_insufficient_scope_naming_it(server: InProcessServer, issuer: Issuer) -> None:
    token = issuer.token(issuer.keys[0], audience(server), scope="core:read slowtest:read")
    response = post_call(server.url, bearer(token), "note", {"text": "hi"})
    assert response.status_code == 403
    assert "needs scope 'slowtest:write'" in response.json()["error"]["message"]
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="slowtest:write"' in challenge
    for mode in ("legacy", "2026-07-28"):
        error = await refused(server.url, bearer(token), mode, tool="note", arguments={"text": "hi"})
        assert "needs scope 'slowtest:write'" in error.message and error.error.data == {
            "requiredScope": "slowtest:write"
        }
    writer = issuer.token(issuer.keys[0], audience(server), scope="slowtest:write")
    async with connected(server.url, bearer(writer)) as session:
        assert (await session.call_tool("note", {"text": "hi"})).content[0].text == "noted 2 characters"


async def test_unknown_kid_refetches_the_jwks_after_key_rotation(server: InProcessServer, issuer: Issuer) -> None:
    rotated = rsa_key("rsa-2")
    token = issuer.token(rotated, audience(server))
    response = post_call(server.url, bearer(token), "echo", {"message": "x"})
    assert response.status_code == 401 and "unknown key id 'rsa-2'" in response.json()["error"]["message"]
    issuer.keys.append(rotated)  # the issuer publishes its new key
    fetches = issuer.jwks_fetches
    async with connected(server.url, bearer(token)) as session:
        assert (await session.call_tool("echo", {"message": "rotated"})).content[0].text == "rotated"
    assert issuer.jwks_fetches == fetches + 1  # one refetch, then the new key is cached
    issuer.keys.remove(rotated)


async def test_unknown_kid_refetches_are_rate_limited(issuer: Issuer) -> None:
    config = settings(auth={"modes": "oauth", "oauth": {"issuer": issuer.url, "jwks_min_refresh_seconds": 3600}})
    with serving(config) as server:
        await assert_still_serves(server, issuer)
        fetches = issuer.jwks_fetches
        forger = ec_key("unused")
        for n in range(3):
            forger.kid = f"forged-{n}"
            token = issuer.token(forger, server.url)
            assert post_call(server.url, bearer(token), "echo", {"message": "x"}).status_code == 401
        assert issuer.jwks_fetches == fetches  # the last fetch was just now: no refetch storm
        await assert_still_serves(server, issuer)


async def test_jwks_down_fails_closed(issuer: Issuer) -> None:
    config = settings(auth={"modes": "oauth", "oauth": {"issuer": issuer.url, "jwks_min_refresh_seconds": 0}})
    with serving(config) as server:
        token = issuer.token(issuer.keys[0], server.url)
        issuer.down = True
        try:
            response = post_call(server.url, bearer(token), "echo", {"message": "x"})
            assert response.status_code == 503
            assert "cannot fetch the issuer's signing keys" in response.json()["error"]["message"]
            assert response.headers["retry-after"]
        finally:
            issuer.down = False
        await assert_still_serves(server, issuer)  # keys reachable again: served


async def test_a_down_issuer_is_not_asked_again_on_every_request(issuer: Issuer) -> None:
    config = settings(auth={"modes": "oauth", "oauth": {"issuer": issuer.url, "jwks_min_refresh_seconds": 3600}})
    with serving(config) as server:
        token = issuer.token(issuer.keys[0], server.url)
        issuer.down = True
        try:
            seen = issuer.requests_seen
            assert post_call(server.url, bearer(token), "echo", {"message": "x"}).status_code == 503
            asked = issuer.requests_seen
            assert asked > seen  # the first request tried the issuer (metadata discovery)...
            for _ in range(3):
                assert post_call(server.url, bearer(token), "echo", {"message": "x"}).status_code == 503
            assert issuer.requests_seen == asked  # ...the next ones are refused without asking again
        finally:
            issuer.down = False


async def test_opaque_tokens_through_introspection(issuer: Issuer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret_file = tmp_path / "introspection-secret"
    secret_file.write_text("s3cr3t-introspection\n")
    issuer.introspection_auth = ("mcpcloud", "s3cr3t-introspection")
    config = settings(
        auth={
            "modes": "oauth",
            "oauth": {
                "issuer": issuer.url,
                "introspection_url": f"{issuer.url}/introspect",
                "introspection_client_id": "mcpcloud",
                "introspection_client_secret_file": str(secret_file),
            },
        }
    )
    with serving(config) as server:
        issuer.opaque_tokens["opaque-good"] = {
            "active": True,
            "scope": "core:read",
            "sub": "bob",
            "client_id": "cli",
            "aud": server.url,
            "iss": issuer.url,
            "exp": int(time.time()) + 60,
        }
        issuer.opaque_tokens["opaque-other-audience"] = {**issuer.opaque_tokens["opaque-good"], "aud": "https://x"}
        async with connected(server.url, bearer("opaque-good")) as session:
            assert (await session.call_tool("echo", {"message": "op"})).content[0].text == "op"
        for token, message in [("opaque-unknown", "not active"), ("opaque-other-audience", "audience")]:
            response = post_call(server.url, bearer(token), "echo", {"message": "x"})
            assert response.status_code == 401 and message in response.json()["error"]["message"]
        async with connected(server.url, bearer("opaque-good")) as session:
            assert (await session.call_tool("echo", {"message": "again"})).content[0].text == "again"
    issuer.introspection_auth = None


async def test_each_post_of_a_legacy_session_is_authorized_with_its_own_token(
    server: InProcessServer, issuer: Issuer
) -> None:
    """Step-up: the same user gets a token with more scope and goes on in the same session."""
    from tests.wire import legacy_initialize

    narrow = issuer.token(issuer.keys[0], audience(server), scope="core:read")
    wider = issuer.token(issuer.keys[1], audience(server), scope="core:read slowtest:write")
    someone_else = issuer.token(issuer.keys[0], audience(server), scope="slowtest:write", sub="mallory")
    init_headers, init = legacy_initialize()
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "note", "arguments": {"text": "x"}}}
    with httpx.Client(timeout=10) as http:
        opened = http.post(server.url, json=init, headers={**init_headers, **bearer(narrow)})
        session = {
            **init_headers,
            "Mcp-Session-Id": opened.headers["mcp-session-id"],
            "MCP-Protocol-Version": "2025-11-25",
        }
        assert http.post(server.url, json=call, headers={**session, **bearer(narrow)}).status_code == 403
        assert http.post(server.url, json=call, headers={**session, **bearer(someone_else)}).status_code == 404
        stepped_up = http.post(server.url, json=call, headers={**session, **bearer(wider)})
        assert stepped_up.status_code == 200 and "noted 1 characters" in stepped_up.text


# Issue 14: validly signed tokens with malformed claims are 401 (never 500), and distinct identities
# never share a principal id (a client alone is `client:<id>`, a subject `sub:<id>`).

MALFORMED: dict[str, tuple[dict[str, Any], str]] = {
    "scope is a number": ({"scope": 42}, "token claim 'scope' must be a space-separated string, got int"),
    "scope is a list": ({"scope": ["core:read"]}, "token claim 'scope' must be a space-separated string, got list"),
    "scp holds numbers": ({"scope": None, "scp": [1, 2]}, "token claim 'scp' must be a string or a list of strings"),
    "sub is a number": ({"sub": 123}, "token claim 'sub' must be a non-empty string"),
    "sub is empty": ({"sub": ""}, "token claim 'sub' must be a non-empty string"),
    "client_id is an object": (
        {"client_id": {"id": "x"}},
        "token claim 'client_id' must be a non-empty string, got dict",
    ),
    "azp is a list": ({"client_id": None, "azp": ["x"]}, "token claim 'azp' must be a non-empty string, got list"),
    "nobody named": ({"sub": None, "client_id": None}, "token names no subject (sub) and no client"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_malformed_claims_are_401_naming_the_claim(server: InProcessServer, issuer: Issuer, case: str) -> None:
    claims, message = MALFORMED[case]
    token = issuer.token(issuer.keys[0], server.url, **claims)
    response = post_call(server.url, bearer(token), "echo", {"message": "x"})
    assert response.status_code == 401
    assert message in response.json()["error"]["message"]
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    good = issuer.token(issuer.keys[0], server.url)
    async with connected(server.url, bearer(good)) as session:
        assert (await session.call_tool("echo", {"message": "ok"})).content[0].text == "ok"


async def test_a_client_and_a_user_of_the_same_name_are_different_principals(issuer: Issuer) -> None:
    verifier = OAuthVerifier(OAuthSettings(issuer=issuer.url, jwks_min_refresh_seconds=0), "http://mcp.test/mcp")
    try:
        user = await verifier.verify(issuer.token(issuer.keys[0], "http://mcp.test/mcp", sub="u1", client_id=None))
        client = await verifier.verify(issuer.token(issuer.keys[0], "http://mcp.test/mcp", sub=None, client_id="u1"))
        both = await verifier.verify(issuer.token(issuer.keys[0], "http://mcp.test/mcp", sub="u1", client_id="u1"))
    finally:
        await verifier.aclose()
    assert user.id == "sub:u1" and client.id == "client:u1" and user.id != client.id
    assert both.id == "sub:u1" and both.aliases == ("client:u1",)
    assert client.id not in user.identities and user.id not in client.identities


def test_malformed_claims_are_refused_before_any_principal_exists() -> None:
    for claims, message in MALFORMED.values():
        full = {"sub": "alice", "client_id": "app", "scope": "core:read", **claims}
        with pytest.raises(InvalidToken, match=message.split(",")[0].replace("(", r"\(").replace(")", r"\)")):
            principal_from_claims({k: v for k, v in full.items() if v is not None})
