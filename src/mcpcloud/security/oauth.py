"""OAuth 2.1 resource server: JWT access tokens checked against the issuer's JWKS.

Fail closed everywhere: an algorithm outside the (asymmetric) allow-list, a key whose type does
not match the token's algorithm, a missing `exp`/`iss`/`aud`, or keys that cannot be fetched
all refuse the token. Keys are cached; an unknown `kid` triggers a refetch, at most one per
`jwks_min_refresh_seconds`, so forged kids cannot turn us into a traffic amplifier.
Opaque tokens go to RFC 7662 introspection when it is configured.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import jwt
from jwt import PyJWK

from mcpcloud.config import OAuthSettings
from mcpcloud.security.oauth_errors import InvalidToken, IssuerUnavailable
from mcpcloud.security.principal import Principal

_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
_HTTP_TIMEOUT = httpx.Timeout(5.0)


@dataclass
class _KeySet:
    keys: dict[str, dict[str, Any]]
    fetched_at: float


class JwksCache:
    def __init__(self, settings: OAuthSettings, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.client = client
        self.jwks_url = settings.jwks_url
        self._set: _KeySet | None = None
        self._last_attempt = float("-inf")
        self._lock = anyio.Lock()

    async def key_for(self, kid: str | None) -> dict[str, Any]:
        now = time.monotonic()
        current = self._set
        if current is None or now - current.fetched_at > self.settings.jwks_cache_seconds:
            current = await self._refresh(force=current is None)
        jwk = _pick(current.keys, kid) if current else None
        if jwk is None and now - self._last_attempt >= self.settings.jwks_min_refresh_seconds:
            current = await self._refresh(force=True)
            jwk = _pick(current.keys, kid)
        if jwk is None:
            raise InvalidToken(f"token signed with unknown key id {kid!r}")
        return jwk

    async def _refresh(self, force: bool) -> _KeySet:
        async with self._lock:
            stale = self._set
            now = time.monotonic()
            if stale is not None and not force and now - stale.fetched_at <= self.settings.jwks_cache_seconds:
                return stale
            if stale is None and now - self._last_attempt < self.settings.jwks_min_refresh_seconds:
                # The last attempt failed moments ago: refuse without asking a struggling issuer again.
                raise IssuerUnavailable("cannot fetch the issuer's signing keys (recently failed)")
            self._last_attempt = now
            try:
                url = self.jwks_url or await self._discover()
                response = await self.client.get(url)
                response.raise_for_status()
                keys = {
                    str(k.get("kid", "")): k
                    for k in response.json().get("keys", [])
                    if isinstance(k, dict) and k.get("kty") != "oct"  # a symmetric key never verifies here
                }
            except (httpx.HTTPError, ValueError, AttributeError) as exc:
                if stale is not None:
                    return stale  # keep serving with the keys we have; unknown kids still fail
                raise IssuerUnavailable(f"cannot fetch the issuer's signing keys: {type(exc).__name__}") from None
            self._set = _KeySet(keys, time.monotonic())
            return self._set

    async def _discover(self) -> str:
        issuer = (self.settings.issuer or "").rstrip("/")
        for suffix in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
            response = await self.client.get(issuer + suffix)
            if response.status_code == 200:
                jwks_uri = response.json().get("jwks_uri")
                if isinstance(jwks_uri, str):
                    self.jwks_url = jwks_uri
                    return jwks_uri
        raise httpx.HTTPError(f"no jwks_uri in {issuer}'s metadata")


def _pick(keys: dict[str, dict[str, Any]], kid: str | None) -> dict[str, Any] | None:
    if kid is not None:
        return keys.get(kid)
    return next(iter(keys.values())) if len(keys) == 1 else None


class OAuthVerifier:
    def __init__(self, settings: OAuthSettings, audience: str) -> None:
        self.settings = settings
        self.audience = audience
        self.client = httpx.AsyncClient(timeout=_HTTP_TIMEOUT, follow_redirects=False)
        self.jwks = JwksCache(settings, self.client)

    async def verify(self, token: str) -> Principal:
        if token.count(".") != 2:
            if self.settings.introspection_url:
                return await self._introspect(token)
            raise InvalidToken("bearer token is not a JWT")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("malformed JWT") from None
        alg = header.get("alg")
        if alg not in self.settings.algorithms:
            raise InvalidToken(
                f"JWT algorithm {alg!r} is not accepted (accepted: {', '.join(self.settings.algorithms)})"
            )
        jwk = await self.jwks.key_for(header.get("kid"))
        if jwk.get("kty") != _KEY_TYPES.get(str(alg)[:2]):
            raise InvalidToken(f"JWT algorithm {alg!r} does not match the signing key's type")
        try:
            key = PyJWK(jwk, algorithm=alg).key
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_seconds,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("token is not valid yet (nbf/iat in the future)") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken(f"token audience is not this server ({self.audience})") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken(f"token issuer is not {self.settings.issuer}") from None
        except jwt.InvalidSignatureError:
            raise InvalidToken("token signature does not verify") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"token lacks the {exc.claim!r} claim") from None
        except jwt.exceptions.InvalidSubjectError:
            raise InvalidToken("token claim 'sub' must be a non-empty string") from None
        except (jwt.PyJWTError, ValueError) as exc:
            raise InvalidToken(f"token rejected: {type(exc).__name__}") from None
        return principal_from_claims(claims)

    async def _introspect(self, token: str) -> Principal:
        settings = self.settings
        auth = None
        if settings.introspection_client_id and settings.introspection_client_secret:
            auth = (settings.introspection_client_id, settings.introspection_client_secret.get_secret_value())
        try:
            response = await self.client.post(
                str(settings.introspection_url), data={"token": token, "token_type_hint": "access_token"}, auth=auth
            )
            response.raise_for_status()
            claims = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise IssuerUnavailable(f"token introspection failed: {type(exc).__name__}") from None
        if not isinstance(claims, dict) or claims.get("active") is not True:
            raise InvalidToken("token is not active")
        now = time.time()
        if isinstance(claims.get("exp"), (int, float)) and claims["exp"] + settings.leeway_seconds < now:
            raise InvalidToken("token expired")
        if "iss" in claims and claims["iss"] != settings.issuer:
            raise InvalidToken(f"token issuer is not {settings.issuer}")
        audiences = claims.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else audiences
        if audiences is not None and self.audience not in audiences:
            raise InvalidToken(f"token audience is not this server ({self.audience})")
        return principal_from_claims(claims)

    async def aclose(self) -> None:
        await self.client.aclose()


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """The caller a verified token names. A claim of the wrong type is a malformed token (401), and a
    user and a client never share an id: `sub:<sub>` for a subject, `client:<client_id>` for a client alone."""
    scopes = _scopes(claims)
    subject = _optional_string(claims, "sub")
    client_id = next((v for k in ("client_id", "azp", "appid", "cid") if (v := _optional_string(claims, k))), None)
    if subject is not None:
        principal_id = f"sub:{subject}"
    elif client_id is not None:
        principal_id = f"client:{client_id}"
    else:
        raise InvalidToken("token names no subject (sub) and no client (client_id or azp)")
    aliases = (f"client:{client_id}",) if client_id and subject is not None else ()
    return Principal(
        id=principal_id,
        kind="oauth",
        scopes=frozenset(scopes),
        subject=subject,
        client_id=client_id,
        issuer=_optional_string(claims, "iss"),
        aliases=aliases,
    )


def _optional_string(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidToken(f"token claim {name!r} must be a non-empty string, got {type(value).__name__}")
    return value


def _scopes(claims: dict[str, Any]) -> list[str]:
    """`scope` is a space-separated string (RFC 8693 / 9068); `scp` a string or a list of strings."""
    if "scope" in claims:
        scope = claims["scope"]
        if not isinstance(scope, str):
            raise InvalidToken(f"token claim 'scope' must be a space-separated string, got {type(scope).__name__}")
        return scope.split()
    scp = claims.get("scp", "")
    if isinstance(scp, str):
        return scp.split()
    if isinstance(scp, list) and all(isinstance(item, str) for item in scp):
        return list(scp)
    raise InvalidToken("token claim 'scp' must be a string or a list of strings")
