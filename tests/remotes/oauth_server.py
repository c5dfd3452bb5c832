"""A small OAuth 2.1 authorization server on loopback, for the hop's OAuth tests.

RFC 8414 metadata, JWKS, dynamic client registration, authorization code with PKCE (S256;
the "user" approves at once), refresh tokens, and client credentials. Access tokens are JWTs
that `mcpcloud serve` (auth.modes = oauth) verifies: issuer, audience (the `resource`), scope.
`lifetime` makes tokens expire quickly; `advertise` overrides metadata (to advertise bad URLs).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.http_stub import QuietJsonHandler


@dataclass
class AuthServer:
    url: str = ""
    lifetime: int = 300
    scope: str = "core:read core:write"
    clients: dict[str, str | None] = field(default_factory=dict)  # client id -> secret (None: public)
    advertise: dict[str, str] = field(default_factory=dict)
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (challenge, resource)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh token -> resource
    issued: list[str] = field(default_factory=list)  # grant of each token issued
    key: Any = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "registration_endpoint": f"{self.url}/register",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            **self.advertise,
        }

    def access_token(self, resource: str, subject: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": resource,
            "sub": subject,
            "scope": self.scope,
            "iat": now,
            "exp": now + self.lifetime,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})

    def jwks(self) -> dict[str, Any]:
        jwk = jwt.get_algorithm_by_name("RS256").to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}


@contextmanager
def auth_server() -> Iterator[AuthServer]:
    server = AuthServer()

    class Handler(QuietJsonHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/.well-known/oauth-authorization-server":
                self._json(200, server.metadata())
            elif parts.path == "/jwks":
                self._json(200, server.jwks())
            elif parts.path == "/authorize":
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                code = secrets.token_urlsafe(16)
                server.codes[code] = (query["code_challenge"], query.get("resource", ""))
                target = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query.get("state", "")})
                self.send_response(302)
                self.send_header("Location", target)
                self.end_headers()
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length).decode()
            if self.path == "/register":
                body = json.loads(raw)
                client_id = secrets.token_hex(8)
                server.clients[client_id] = None
                self._json(201, {**body, "client_id": client_id, "token_endpoint_auth_method": "none"})
                return
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            client_id, secret = form.get("client_id"), form.get("client_secret")
            basic = self.headers.get("Authorization", "")
            if basic.startswith("Basic "):
                client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            if client_id not in server.clients or server.clients[client_id] not in (None, secret):
                self._json(401, {"error": "invalid_client"})
                return
            grant = form.get("grant_type")
            resource = form.get("resource", "")
            if grant == "client_credentials":
                token = {"access_token": server.access_token(resource, f"client:{client_id}")}
            elif grant == "authorization_code":
                challenge, resource = server.codes.pop(form.get("code", ""), ("", ""))
                verifier = form.get("code_verifier", "")
                computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if not challenge or computed != challenge:
                    self._json(400, {"error": "invalid_grant"})
                    return
                refresh = secrets.token_urlsafe(16)
                server.refresh_tokens[refresh] = resource
                token = {"access_token": server.access_token(resource, "alice"), "refresh_token": refresh}
            elif grant == "refresh_token" and form.get("refresh_token") in server.refresh_tokens:
                resource = server.refresh_tokens.pop(form["refresh_token"])
                refresh = secrets.token_urlsafe(16)
                server.refresh_tokens[refresh] = resource
                token = {"access_token": server.access_token(resource, "alice"), "refresh_token": refresh}
            else:
                server.issued.append(f"{grant} refused")
                self._json(400, {"error": "invalid_grant"})
                return
            server.issued.append(grant or "")
            self._json(200, {**token, "token_type": "Bearer", "expires_in": server.lifetime, "scope": server.scope})

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
