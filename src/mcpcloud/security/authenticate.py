"""HTTP authentication: API keys and/or OAuth bearer tokens, producing the request's principal.

Runs in front of the MCP endpoint only; probes and the RFC 9728 metadata stay open.
Refusals are 401 with a `WWW-Authenticate` challenge (pointing OAuth clients at the
metadata), or 503 when the issuer cannot be reached: the request is refused, never let through.
No credential is ever logged or echoed back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcp.server.auth.middleware.auth_context import auth_context_var
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from mcpcloud.config import Settings
from mcpcloud.core.outcomes import UNAUTHENTICATED, UNAUTHENTICATED_CODE, UNAVAILABLE, UNAVAILABLE_CODE
from mcpcloud.http_errors import json_rpc_error_response
from mcpcloud.observability.audit import AuditLog
from mcpcloud.observability.metrics import record_auth_failure
from mcpcloud.security.apikeys import ApiKeyVerifier, InvalidKey, looks_like_api_key
from mcpcloud.security.keystore import key_store
from mcpcloud.security.metadata import challenge, metadata_url
from mcpcloud.security.oauth_errors import InvalidToken, IssuerUnavailable
from mcpcloud.security.principal import Principal, attach
from mcpcloud.state.errors import StateUnavailable

if TYPE_CHECKING:
    from mcpcloud.security.oauth import OAuthVerifier


class Authentication:
    """The configured verifiers, and the challenge a refused caller gets."""

    def __init__(
        self, api_keys: ApiKeyVerifier | None, oauth: OAuthVerifier | None, resource: str, scopes: list[str]
    ) -> None:
        self.api_keys = api_keys
        self.oauth = oauth
        self.resource = resource
        self.scopes = scopes
        self.resource_metadata = metadata_url(resource) if oauth is not None else None

    @classmethod
    def from_settings(cls, settings: Settings, scopes: list[str]) -> Authentication:
        auth = settings.auth
        resource = settings.mcp_url
        api_keys = ApiKeyVerifier(key_store(settings)) if "api_keys" in auth.modes else None
        oauth = None
        if "oauth" in auth.modes:
            from mcpcloud.security.oauth import OAuthVerifier  # PyJWT and httpx, only when OAuth is on

            oauth = OAuthVerifier(auth.oauth, auth.oauth.audience or resource)
        return cls(api_keys, oauth, resource, auth.oauth.scopes_supported or scopes)

    async def verify(self, headers: Headers) -> Principal:
        api_key = headers.get("x-api-key")
        if api_key is not None:
            return await self._verify_api_key(api_key)
        authorization = headers.get("authorization")
        if authorization is None:
            raise InvalidKey("authentication required: send 'Authorization: Bearer <token or API key>'")
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise InvalidKey("the Authorization header must be 'Bearer <token or API key>'")
        if looks_like_api_key(credential) or self.oauth is None:
            return await self._verify_api_key(credential)
        return await self.oauth.verify(credential)

    async def _verify_api_key(self, credential: str) -> Principal:
        if self.api_keys is None:
            raise InvalidKey("API keys are not accepted by this server; send an OAuth access token")
        return await self.api_keys.verify(credential)

    async def aclose(self) -> None:
        if self.oauth is not None:
            await self.oauth.aclose()
        if self.api_keys is not None:
            await self.api_keys.store.aclose()

    def www_authenticate(self, error: str | None = None, description: str | None = None) -> str:
        return challenge(self.resource_metadata, self.scopes, error, description)


class Authenticator:
    """ASGI wrapper: authenticate, attach the principal to the scope, or refuse."""

    def __init__(self, app: ASGIApp, authentication: Authentication, audit: AuditLog | None) -> None:
        self.app = app
        self.authentication = authentication
        self.audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            principal = await self.authentication.verify(headers)
        except (InvalidKey, InvalidToken) as exc:
            presented = "authorization" in headers or "x-api-key" in headers
            message = str(exc)
            challenge_header = self.authentication.www_authenticate(
                "invalid_token" if presented else None, message if presented else None
            )
            self._audit(UNAUTHENTICATED, message, headers)
            record_auth_failure("invalid_credentials" if presented else "missing_credentials")
            response = json_rpc_error_response(
                401, message, code=UNAUTHENTICATED_CODE, headers={"WWW-Authenticate": challenge_header}
            )
            await response(scope, receive, send)
            return
        except IssuerUnavailable as exc:
            self._audit(UNAVAILABLE, str(exc), headers)
            record_auth_failure("issuer_unavailable")
            await _unavailable(
                f"{exc}; the token cannot be verified now, retry later",
                "token issuer unreachable",
                5,
                scope,
                receive,
                send,
            )
            return
        except StateUnavailable as exc:  # the API-key store (Redis) cannot answer
            self._audit(UNAVAILABLE, str(exc), headers)
            record_auth_failure("state_unavailable")
            await _unavailable(
                f"{exc}; retry after {exc.retry_after} s", exc.cause, exc.retry_after, scope, receive, send
            )
            return
        user = attach(scope, principal)
        # The SDK binds 2026-07-28 request state (MRTR) to the principal through this context variable.
        reset = auth_context_var.set(user)
        try:
            await self.app(scope, receive, send)
        finally:
            auth_context_var.reset(reset)

    def _audit(self, outcome: str, detail: str, headers: Headers) -> None:
        if self.audit is not None:
            self.audit.record(outcome, principal=None, request_id=headers.get("x-request-id"), detail=detail)


async def _unavailable(message: str, cause: str, retry_after: int, scope: Scope, receive: Receive, send: Send) -> None:
    response = json_rpc_error_response(
        503,
        message,
        code=UNAVAILABLE_CODE,
        headers={"Retry-After": str(retry_after)},
        data={"cause": cause, "retryAfterSeconds": retry_after},
    )
    await response(scope, receive, send)
