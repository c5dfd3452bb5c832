"""The hop's own credential: headers from the config, a header file, or a bearer-token file.

It is never the caller's inbound credential: that stays with mcpcloud. On a 401 the files are
read again (an agent or a Kubernetes Secret may have rotated the token) and the request is
sent once more; a second 401 is the remote's answer.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from pathlib import Path

import httpx2

from mcpcloud.config import RemoteSettings


class CredentialError(Exception):
    """A credential file cannot be read; the message names the file and the setting."""


def _read(path: str, setting: str) -> str:
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise CredentialError(f"{setting}: cannot read {path!r}: {exc.strerror or exc}") from None


def load_headers(settings: RemoteSettings, remote: str) -> dict[str, str]:
    """Every header the hop sends, freshly read from the files each time."""
    headers = {name: value.get_secret_value() for name, value in settings.headers.items()}
    if settings.headers_file:
        for number, line in enumerate(_read(settings.headers_file, f"remotes.{remote}.headers_file").splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            name, sep, value = line.partition(":")
            if not sep or not name.strip():
                raise CredentialError(
                    f"remotes.{remote}.headers_file: line {number} is not 'Name: value' ({settings.headers_file!r})"
                )
            headers[name.strip()] = value.strip()
    if settings.token_file:
        token = _read(settings.token_file, f"remotes.{remote}.token_file").strip()
        if not token:
            raise CredentialError(f"remotes.{remote}.token_file: {settings.token_file!r} is empty")
        headers["Authorization"] = f"Bearer {token}"
    return headers


class HopCredential(httpx2.Auth):
    """Adds the hop's headers to every request; on 401 reloads them once and retries once."""

    requires_request_body = True

    def __init__(self, settings: RemoteSettings, remote: str) -> None:
        self.settings = settings
        self.remote = remote
        self.headers = load_headers(settings, remote)
        self.refreshes = 0

    @property
    def reloadable(self) -> bool:
        return bool(self.settings.headers_file or self.settings.token_file)

    async def async_auth_flow(self, request: httpx2.Request) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        request.headers.update(self.headers)
        response = yield request
        if response.status_code != 401 or not self.reloadable:
            return
        fresh = load_headers(self.settings, self.remote)
        self.refreshes += 1
        if fresh == self.headers:
            return  # nothing rotated: resending the same credential would only earn the same 401
        self.headers = fresh
        request.headers.update(fresh)
        yield request
