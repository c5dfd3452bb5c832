"""Validly signed tokens with malformed claims are 401 (never 500), and distinct identities never
share a principal id (a client alone is `client:<id>`, a subject `sub:<id>`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from security_helpers import (
    InProcessServer,
    Issuer,
    bearer,
    connected,
    issuer_server,
    post_call,
    rsa_key,
    serving,
    settings,
)

from mcpcloud.config import OAuthSettings
from mcpcloud.security.oauth import InvalidToken, OAuthVerifier

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


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    with issuer_server() as running:
        running.keys = [rsa_key("rsa-claims")]
        yield running


@pytest.fixture(scope="module")
def server(issuer: Issuer) -> Iterator[InProcessServer]:
    config = settings(auth={"modes": "oauth", "oauth": {"issuer": issuer.url, "jwks_min_refresh_seconds": 0}})
    with serving(config) as running:
        yield running


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
    from mcpcloud.security.oauth import principal_from_claims

    for claims, message in MALFORMED.values():
        full = {"sub": "alice", "client_id": "app", "scope": "core:read", **claims}
        with pytest.raises(InvalidToken, match=message.split(",")[0].replace("(", r"\(").replace(")", r"\)")):
            principal_from_claims({k: v for k, v in full.items() if v is not None})
