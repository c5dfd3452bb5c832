"""OAuth on the hop: client credentials for machines, authorization code + PKCE for people.

The SDK's own providers run the flows (discovery, registration, PKCE, refresh, retry on 401).
mcpcloud adds three things around them:

- a token cache on disk, one file per issuer and resource (the remote's URL), under the user's
  state dir, read and written under an exclusive file lock, so several local processes started
  at once share one login instead of fighting over it;
- validation of every URL the remote or its authorization server advertises before anything is
  sent to it or shown to a person: https, or http on a loopback address; nothing else, and
  never through a shell;
- a server process never starts an interactive login: without a stored token for a person's
  remote it reports the remote down with "run `mcpcloud remotes login NAME`".
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx2
from mcp.client.auth import OAuthClientProvider, TokenStorage
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthMetadata,
    OAuthToken,
)

from mcpcloud.config import RemoteSettings, is_loopback
from mcpcloud.remotes.pins import state_dir_path


class UnsafeUrl(Exception):
    """A URL advertised for OAuth was refused; the message names it and the rule."""


class LoginRequired(Exception):
    """A person's remote has no usable token in this process; the message says which command fixes it."""


def check_url(url: str, what: str) -> str:
    """https, or http on a loopback address: the only URLs OAuth traffic may go to or a browser may open."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url
    if parts.scheme == "http" and host and is_loopback(host):
        return url
    raise UnsafeUrl(f"{what} {url!r} refused: only https URLs, or http on a loopback address, are used for OAuth")


class FileTokenStorage(TokenStorage):
    """Tokens and client registration of one (issuer, resource), in a JSON file guarded by a lock file."""

    def __init__(self, directory: Path, issuer: str | None, resource: str) -> None:
        key = hashlib.sha256(f"{issuer or ''}\x1f{resource}".encode()).hexdigest()[:24]
        self.path = directory / f"{key}.json"
        self.issuer = issuer
        self.resource = resource

    @contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.path.with_suffix(".lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                data = json.loads(self.path.read_text()) if self.path.exists() else {}
            except ValueError:
                data = {}
            before = dict(data)
            yield data
            if data != before:
                data.update(issuer=self.issuer, resource=self.resource)
                handle, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".token-")
                with os.fdopen(handle, "w") as out:
                    json.dump(data, out)
                os.chmod(tmp, 0o600)
                os.replace(tmp, self.path)

    async def stale(self) -> bool:
        """A stored token whose expiry has passed: whoever uses it next must refresh it."""
        with self._locked() as data:
            expires_at = data.get("expires_at")
            return bool(data.get("tokens")) and expires_at is not None and expires_at <= time.time()

    async def hold_refresh(self) -> Callable[[], None]:
        """Wait for the refresh lock (in a thread: the event loop keeps running); returns its release."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle = open(self.path.with_suffix(".refresh"), "a+")  # noqa: ASYNC230, SIM115 - a lock file; closed by release()
        await anyio.to_thread.run_sync(fcntl.flock, handle, fcntl.LOCK_EX)

        def release() -> None:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

        return release

    async def get_tokens(self) -> OAuthToken | None:
        with self._locked() as data:
            return OAuthToken.model_validate(data["tokens"]) if data.get("tokens") else None

    async def set_tokens(self, tokens: OAuthToken) -> None:
        with self._locked() as data:
            data["tokens"] = tokens.model_dump(mode="json", exclude_none=True)
            # `expires_in` is relative to when the token was issued; the next process needs the instant.
            data["expires_at"] = time.time() + tokens.expires_in if tokens.expires_in else None

    async def expires_at(self) -> float | None:
        with self._locked() as data:
            return data.get("expires_at")

    async def set_server(self, metadata: OAuthMetadata | None, auth_server_url: str | None) -> None:
        """Where tokens come from: a later process refreshes there without discovering it again."""
        if metadata is None:
            return
        with self._locked() as data:
            data["server"] = {"metadata": metadata.model_dump(mode="json", exclude_none=True), "url": auth_server_url}

    async def server(self) -> tuple[OAuthMetadata | None, str | None]:
        with self._locked() as data:
            known = data.get("server") or {}
        return (OAuthMetadata.model_validate(known["metadata"]) if known.get("metadata") else None), known.get("url")

    async def set_tokens_cleared(self) -> None:
        with self._locked() as data:
            data.pop("tokens", None)

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        with self._locked() as data:
            info = data.get("client_info")
            return OAuthClientInformationFull.model_validate(info) if info else None

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        with self._locked() as data:
            data["client_info"] = client_info.model_dump(mode="json", exclude_none=True)


class _Remembered:
    """A token loaded from the cache keeps its expiry and the server that issued it.

    The SDK's providers learn both only during a flow: a token loaded from storage would count
    as valid until the remote answers 401 (which starts a whole new login), and a refresh would
    go to a guessed token URL. So the cache records them, and a new process starts from there.
    """

    context: Any

    async def _initialize(self) -> None:
        await super()._initialize()  # type: ignore[misc]
        storage = self.context.storage
        self.context.token_expiry_time = await storage.expires_at()
        metadata, url = await storage.server()
        if metadata is not None and self.context.oauth_metadata is None:
            self.context.oauth_metadata, self.context.auth_server_url = metadata, url

    async def reload(self) -> None:
        """Start again from the cache (another process may have refreshed the token meanwhile)."""
        await self._initialize()

    async def _handle_token_response(self, response: httpx2.Response) -> None:
        await super()._handle_token_response(response)  # type: ignore[misc]
        await self.context.storage.set_server(self.context.oauth_metadata, self.context.auth_server_url)


class PersonProvider(_Remembered, OAuthClientProvider):
    """Authorization code + PKCE, with the cache's expiry."""


class MachineProvider(_Remembered, ClientCredentialsOAuthProvider):
    """Client credentials, with the cache's expiry."""


class CheckedAuth(httpx2.Auth):
    """Runs an SDK OAuth provider, refusing any request it would send to an unsafe URL.

    The remote's static headers (if any) ride along on the requests it authenticates.
    """

    requires_request_body = True
    requires_response_body = True

    def __init__(self, provider: httpx2.Auth, remote: str, headers: dict[str, str] | None = None) -> None:
        self.provider = provider
        self.remote = remote
        self.headers = headers or {}

    async def async_auth_flow(self, request: httpx2.Request) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        request.headers.update(self.headers)
        # Several local processes may find the shared token expired at once. One refreshes (with a
        # rotating refresh token, only one can); the others wait here, then use what it stored.
        release = await self._hold_refresh_if_stale()
        flow = self.provider.async_auth_flow(request)
        try:
            outgoing = await flow.__anext__()
            while True:
                if outgoing is not request:
                    check_url(str(outgoing.url), f"remote {self.remote!r}: OAuth endpoint")
                elif release is not None:
                    release()  # the token is settled; the MCP request itself runs unlocked
                    release = None
                response = yield outgoing
                outgoing = await flow.asend(response)
        except StopAsyncIteration:
            return
        finally:
            if release is not None:
                release()
            await flow.aclose()

    async def _hold_refresh_if_stale(self) -> Callable[[], None] | None:
        storage = getattr(getattr(self.provider, "context", None), "storage", None)
        if not isinstance(storage, FileTokenStorage) or not await storage.stale():
            return None
        release = await storage.hold_refresh()
        await self.provider.reload()  # type: ignore[attr-defined]
        return release


def login_hint(name: str) -> str:
    return f"remote {name!r} needs a login: run `mcpcloud remotes login {name}`"


async def require_stored_login(name: str, remote: RemoteSettings, state_dir: str | None) -> None:
    """A server never logs a person in: without a stored token it says which command does."""
    person = remote.auth == "oauth" and remote.oauth.grant == "authorization_code"
    if person and await token_storage(remote, state_dir).get_tokens() is None:
        raise LoginRequired(login_hint(name))


def token_storage(remote: RemoteSettings, state_dir: str | None) -> FileTokenStorage:
    return FileTokenStorage(state_dir_path(state_dir) / "tokens", remote.oauth.issuer, remote.url)


def oauth_credential(
    name: str,
    remote: RemoteSettings,
    state_dir: str | None,
    redirect_handler: Callable[[str], Awaitable[None]] | None = None,
    callback_handler: Callable[[], Awaitable[AuthorizationCodeResult]] | None = None,
    redirect_uri: str = "http://127.0.0.1/callback",
    headers: dict[str, str] | None = None,
) -> CheckedAuth:
    """The hop's OAuth for remote `name`; without handlers (a server) a needed login is an error, not a browser."""
    settings = remote.oauth
    storage = token_storage(remote, state_dir)
    scope = " ".join(settings.scopes) or None
    if settings.grant == "client_credentials":
        assert settings.client_id and settings.client_secret  # the settings model requires both
        provider: httpx2.Auth = MachineProvider(
            server_url=remote.url,
            storage=storage,
            client_id=settings.client_id,
            client_secret=settings.client_secret.get_secret_value(),
            scope=scope,
            issuer=settings.issuer,
        )
        return CheckedAuth(provider, name, headers)

    async def no_browser_here(*_: Any) -> Any:
        raise LoginRequired(login_hint(name))

    async def checked_redirect(url: str) -> None:
        check_url(url, f"remote {name!r}: authorization URL")
        assert redirect_handler is not None
        await redirect_handler(url)

    metadata = OAuthClientMetadata(
        client_name="mcpcloud",
        redirect_uris=[redirect_uri],
        grant_types=["authorization_code", "refresh_token"],
        token_endpoint_auth_method="none",
        scope=scope,
    )
    provider = PersonProvider(
        server_url=remote.url,
        client_metadata=metadata,
        storage=storage,
        redirect_handler=checked_redirect if redirect_handler else no_browser_here,
        callback_handler=callback_handler or no_browser_here,
    )
    return CheckedAuth(provider, name, headers)
