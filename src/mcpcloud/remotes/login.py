"""`mcpcloud remotes login`: a person's authorization code + PKCE login, once, for every local server.

The redirect comes back to a one-shot HTTP listener on 127.0.0.1. The login URL is checked
(https, or http on loopback) before it is shown or opened, and opened with Python's
`webbrowser` (an argument list, never a shell). A lock file makes a second login for the same
issuer and resource wait for the first instead of racing it.
"""

from __future__ import annotations

import fcntl
import threading
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import click
from mcp.shared.auth import AuthorizationCodeResult

from mcpcloud.config import RemoteSettings
from mcpcloud.remotes.credentials import load_headers
from mcpcloud.remotes.oauth import oauth_credential, token_storage
from mcpcloud.remotes.upstream import probe

LOGIN_TIMEOUT_SECONDS = 300


class _Callback:
    """The one request the authorization server redirects the browser to."""

    def __init__(self) -> None:
        self.params: dict[str, str] = {}
        self.arrived = threading.Event()
        callback = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # stdout/stderr stay clean
                pass

            def do_GET(self) -> None:
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                body = b"mcpcloud: login received, you can close this tab." if "code" in query else b"no code"
                self.send_response(200 if "code" in query else 400)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                if "code" in query or "error" in query:
                    callback.params = query
                    callback.arrived.set()

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.redirect_uri = f"http://127.0.0.1:{self.httpd.server_address[1]}/callback"

    async def result(self) -> AuthorizationCodeResult:
        arrived = await anyio.to_thread.run_sync(self.arrived.wait, LOGIN_TIMEOUT_SECONDS)
        if not arrived:
            raise TimeoutError(f"no login within {LOGIN_TIMEOUT_SECONDS} s")
        if "error" in self.params:
            raise RuntimeError(f"the authorization server refused: {self.params['error']}")
        return AuthorizationCodeResult(
            code=self.params["code"], state=self.params.get("state"), iss=self.params.get("iss")
        )


@contextmanager
def _login_lock(path: Any) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(path, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


async def run_login(name: str, remote: RemoteSettings, state_dir: str | None, open_browser: bool = True) -> None:
    callback = _Callback()
    thread = threading.Thread(target=callback.httpd.serve_forever, daemon=True)
    thread.start()

    async def show(url: str) -> None:
        click.echo(f"log in to remote {name!r} at: {url}", err=True)
        if open_browser:
            webbrowser.open(url)

    try:
        with _login_lock(token_storage(remote, state_dir).path.with_suffix(".login")):
            storage = token_storage(remote, state_dir)
            if remote.oauth.grant == "authorization_code":
                await storage.set_tokens_cleared()  # a login asks anew, even if an old token lingers
            auth = oauth_credential(
                name,
                remote,
                state_dir,
                redirect_handler=show,
                callback_handler=callback.result,
                redirect_uri=callback.redirect_uri,
                headers=load_headers(remote, name),
            )
            await probe(name, remote, auth)
    finally:
        callback.httpd.shutdown()
        callback.httpd.server_close()
