"""Real parts for the security tests: servers (in-process and subprocess), a Redis, an OAuth issuer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import slow_pack
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from tests.conftest import RunningServer, server_env, spawn_server, wait_ready  # noqa: F401 - server_env re-exported
from tests.http_stub import QuietJsonHandler

from mcpcloud import server as server_module
from mcpcloud.config import Settings, load_settings
from mcpcloud.http import build_app
from mcpcloud.packs import load_pack
from mcpcloud.server import build

ROOT = Path(__file__).resolve().parents[2]
MCPCLOUD = str(Path(sys.executable).parent / "mcpcloud")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _load_pack_with_test_pack(name: str):  # type: ignore[no-untyped-def]
    return slow_pack if name == slow_pack.name else load_pack(name)


def settings(**overrides: Any) -> Settings:
    """Settings for an in-process server on a free loopback port, ignoring any MCPCLOUD_* in the environment."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("MCPCLOUD_")}
    try:
        return load_settings(**{"port": free_port(), "packs": "core,slowtest", **overrides})
    finally:
        os.environ.update(saved)


@dataclass
class InProcessServer:
    base_url: str
    settings: Settings

    @property
    def url(self) -> str:
        return f"{self.base_url}/mcp"


@contextmanager
def serving(config: Settings) -> Iterator[InProcessServer]:
    """mcpcloud's real ASGI app on uvicorn, in a thread of this process."""
    original = server_module.load_pack
    server_module.load_pack = _load_pack_with_test_pack
    try:
        app = build_app(build(config))
    finally:
        server_module.load_pack = original
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=config.port, log_config=None, lifespan="on"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("in-process server did not start")
        time.sleep(0.02)
    try:
        yield InProcessServer(f"http://127.0.0.1:{config.port}", config)
    finally:
        uv.should_exit = True
        thread.join(15)


def client(url: str, headers: dict[str, str] | None = None, mode: str = "legacy") -> Client:
    """The SDK client over Streamable HTTP, sending `headers` (credentials) on every request."""
    transport = streamable_http_client(url, http_client=create_mcp_http_client(headers=headers or {}))
    return Client(transport, mode=mode)  # type: ignore[arg-type]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post_call(
    url: str, headers: dict[str, str], tool: str, arguments: dict[str, Any] | None = None, protocol: str = "2025-06-18"
) -> httpx.Response:
    """One raw stateless-looking tools/call POST (to read HTTP statuses and headers)."""
    body = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": tool, "arguments": arguments or {}}}
    return httpx.post(
        url,
        json=body,
        timeout=10,
        headers={"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": protocol, **headers},
    )


# --- subprocess servers -------------------------------------------------------------------------


@contextmanager
def subprocess_servers(tmp_path: Path, env: dict[str, str], count: int = 1) -> Iterator[list[RunningServer]]:
    """`count` real `mcpcloud serve` processes, started together (startup is the slow part)."""
    running: list[RunningServer] = []
    try:
        for _ in range(count):
            running.append(spawn_server(tmp_path, env=env))
        for server in running:
            wait_ready(server, timeout=60)
        yield running
    finally:
        for server in running:
            server.stop()


@contextmanager
def subprocess_server(tmp_path: Path, env: dict[str, str]) -> Iterator[RunningServer]:
    with subprocess_servers(tmp_path, env) as (server,):
        yield server


def unique_prefix() -> str:
    return f"mcpcloud-test:{uuid.uuid4().hex[:12]}:"


# --- an OAuth issuer on loopback ------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class SigningKey:
    kid: str
    alg: str
    private: Any

    @property
    def public_jwk(self) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.alg)
        jwk = algorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": self.alg}

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def rsa_key(kid: str) -> SigningKey:
    return SigningKey(kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


def ec_key(kid: str) -> SigningKey:
    return SigningKey(kid, "ES256", ec.generate_private_key(ec.SECP256R1()))


@dataclass
class Issuer:
    """An authorization server's public face: metadata, JWKS, introspection. Mutable for rotation/outage."""

    url: str = ""
    keys: list[SigningKey] = field(default_factory=list)
    down: bool = False
    jwks_fetches: int = 0
    requests_seen: int = 0
    opaque_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    introspection_auth: tuple[str, str] | None = None

    def token(self, key: SigningKey, audience: str, scope: str = "core:read", **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": self.url,
            "aud": audience,
            "sub": "alice",
            "client_id": "desktop-app",
            "scope": scope,
            "iat": now,
            "exp": now + 300,
            **claims,
        }
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, key.private, algorithm=key.alg, headers={"kid": key.kid})

    def unsigned(self, kid: str, audience: str, alg: str = "none", secret: bytes = b"") -> str:
        """A token with a hand-made header: `alg: none`, or HMAC signed with `secret` (e.g. a public key)."""
        now = int(time.time())
        header = _b64(json.dumps({"alg": alg, "typ": "JWT", "kid": kid}).encode())
        payload = _b64(
            json.dumps(
                {"iss": self.url, "aud": audience, "sub": "mallory", "scope": "core:read", "iat": now, "exp": now + 300}
            ).encode()
        )
        signing_input = f"{header}.{payload}".encode()
        signature = _b64(hmac.new(secret, signing_input, hashlib.sha256).digest()) if alg == "HS256" else ""
        return f"{header}.{payload}.{signature}"


@contextmanager
def issuer_server() -> Iterator[Issuer]:
    issuer = Issuer()

    class Handler(QuietJsonHandler):
        def do_GET(self) -> None:
            issuer.requests_seen += 1
            if issuer.down:
                self._json(503, {"error": "down"})
            elif self.path == "/.well-known/oauth-authorization-server":
                self._json(
                    200,
                    {
                        "issuer": issuer.url,
                        "jwks_uri": f"{issuer.url}/jwks",
                        "introspection_endpoint": f"{issuer.url}/introspect",
                    },
                )
            elif self.path == "/jwks":
                issuer.jwks_fetches += 1
                self._json(200, {"keys": [k.public_jwk for k in issuer.keys]})
            else:
                self._json(404, {"error": "not found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode())
            if self.path != "/introspect" or issuer.down:
                self._json(503, {"error": "down"})
                return
            expected = issuer.introspection_auth
            if expected is not None:
                basic = "Basic " + base64.b64encode(f"{expected[0]}:{expected[1]}".encode()).decode()
                if self.headers.get("Authorization") != basic:
                    self._json(401, {"error": "invalid_client"})
                    return
            token = form.get("token", [""])[0]
            self._json(200, issuer.opaque_tokens.get(token, {"active": False}))

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    issuer.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield issuer
    finally:
        httpd.shutdown()
        httpd.server_close()


@asynccontextmanager
async def connected(url: str, headers: dict[str, str], mode: str = "legacy"):  # type: ignore[no-untyped-def]
    async with client(url, headers, mode) as session:
        yield session


def _find_mcp_error(exc: BaseException) -> Any:
    from mcp.shared.exceptions import MCPError

    if isinstance(exc, MCPError):
        return exc
    for inner in getattr(exc, "exceptions", ()):
        found = _find_mcp_error(inner)
        if found is not None:
            return found
    return None


async def refused(
    url: str,
    headers: dict[str, str],
    mode: str = "legacy",
    tool: str | None = None,
    arguments: dict[str, Any] | None = None,
) -> Any:
    """The MCPError the SDK client raises when connecting (or calling `tool`) is refused."""
    try:
        async with connected(url, headers, mode) as session:
            if tool is None:
                await session.list_tools()
            else:
                await session.call_tool(tool, arguments or {})
    except BaseException as exc:  # the client wraps it in an exception group
        found = _find_mcp_error(exc)
        if found is None:
            raise
        return found
    raise AssertionError("the request was not refused")


def _in_process_build(**overrides: Any):  # type: ignore[no-untyped-def]
    """`mcpcloud.server.build` with the test pack available, for driving the pipeline without HTTP."""
    original = server_module.load_pack
    server_module.load_pack = _load_pack_with_test_pack
    try:
        return build(settings(**overrides))
    finally:
        server_module.load_pack = original
