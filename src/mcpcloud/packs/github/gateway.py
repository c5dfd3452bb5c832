"""One way to GitHub: githubkit with conditional requests, rate limits and errors made tool-sized.

Reads go through `read()`: the last ETag of the same request is sent as `If-None-Match`, and a
304 (which GitHub does not count against the rate limit) is answered from the stored body.
Every failure becomes a ToolError that says what GitHub said and, for rate limits, when to
retry. Tokens never appear in messages: githubkit does not put them in its exceptions, and we
only ever quote GitHub's `message` field and the request path.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from githubkit import AppInstallationAuthStrategy, GitHub, TokenAuthStrategy
from githubkit.cache import MemCacheStrategy
from githubkit.exception import (
    GitHubException,
    RateLimitExceeded,
    RequestFailed,
    RequestTimeout,
    SecondaryRateLimitExceeded,
)
from githubkit.response import Response
from mcp.server.mcpserver.exceptions import ToolError

from mcpcloud.packs.github.paging import next_page
from mcpcloud.packs.github.settings import GithubSettings
from mcpcloud.state.cache import MemoryCache

ETAG_TTL_SECONDS = 24 * 3600.0

Call = Callable[[dict[str, str]], Awaitable[Response[Any]]]
"""A githubkit call, given the extra request headers (If-None-Match)."""


@dataclass
class Page:
    data: Any
    next_page: int | None


def make_client(settings: GithubSettings) -> GitHub[Any]:
    if settings.token is not None:
        auth: Any = TokenAuthStrategy(settings.token.get_secret_value())
    else:
        assert settings.app_id and settings.private_key and settings.installation_id
        auth = AppInstallationAuthStrategy(
            settings.app_id, settings.private_key.get_secret_value(), settings.installation_id
        )
    # auto_retry off: a tool call must not sleep for minutes on a rate limit; the caller is told
    # when to retry. http_cache off: our own ETag store below is bounded and observable. Our own
    # cache strategy: githubkit's default is process-global, so App tokens would leak between clients.
    return GitHub(
        auth,
        base_url=settings.base_url.rstrip("/") + "/",
        timeout=settings.timeout_seconds,
        auto_retry=False,
        http_cache=False,
        user_agent="mcpcloud-github-pack",
        cache_strategy=MemCacheStrategy(),
    )


class Gateway:
    def __init__(self, settings: GithubSettings, client: GitHub[Any] | None = None) -> None:
        self.client = client or make_client(settings)
        self.etags = MemoryCache(max_entries=settings.etag_cache_entries) if settings.etag_cache_entries else None

    async def read(self, key: str, call: Call) -> Page:
        """GET through the ETag store; `key` names the request (endpoint and every parameter)."""
        stored = await self.etags.get(key) if self.etags is not None else None
        cached = json.loads(stored) if stored else None
        headers = {"If-None-Match": cached["etag"]} if cached else {}
        response = await self._send(call, headers)
        if response.status_code == 304 and cached:
            return Page(cached["data"], cached["next"])
        data = response.json()
        page = Page(data, next_page(response.headers.get("link")))
        etag = response.headers.get("etag")
        if etag and self.etags is not None:
            entry = {"etag": etag, "data": data, "next": page.next_page}
            await self.etags.set(key, json.dumps(entry).encode(), ETAG_TTL_SECONDS)
        return page

    async def write(self, call: Call) -> Any:
        return (await self._send(call, {})).json()

    async def _send(self, call: Call, headers: dict[str, str]) -> Response[Any]:
        try:
            return await call(headers)
        except GitHubException as exc:
            raise ToolError(self._explain(exc)) from None

    def _explain(self, exc: BaseException) -> str:
        if isinstance(exc, RateLimitExceeded):
            return rate_limit_message(exc)
        if isinstance(exc, RequestFailed):
            return failure_message(exc.response)
        if isinstance(exc, RequestTimeout):
            return "GitHub did not answer in time; try again, or raise timeout_seconds"
        inner = getattr(exc, "exc", None)
        if isinstance(inner, GitHubException):  # minting an App installation token failed inside the request
            return "GitHub App authentication failed: " + self._explain(inner)
        return f"cannot reach GitHub at {self.client.config.base_url}: {type(inner or exc).__name__}"


def rate_limit_message(exc: RateLimitExceeded) -> str:
    headers = exc.response.headers
    seconds = max(1, int(exc.retry_after.total_seconds()))
    if isinstance(exc, SecondaryRateLimitExceeded):  # too many requests too fast, whatever the budget left
        return f"GitHub secondary rate limit exceeded (too many requests in a short time): retry in {seconds} s"
    detail = ""
    if headers.get("x-ratelimit-limit"):
        reset = headers.get("x-ratelimit-reset")
        at = datetime.fromtimestamp(int(reset), UTC).strftime("%H:%M:%SZ") if reset and reset.isdigit() else "?"
        resource = headers.get("x-ratelimit-resource", "core")
        detail = f" ({headers.get('x-ratelimit-remaining', '0')} of {headers['x-ratelimit-limit']} {resource} requests left, resets at {at})"
    return f"GitHub primary rate limit exceeded{detail}: retry in {seconds} s"


def failure_message(response: Response[Any]) -> str:
    try:
        body = response.json()
    except ValueError:
        body = {}
    message = body.get("message", response.reason_phrase) if isinstance(body, dict) else response.reason_phrase
    errors = body.get("errors") if isinstance(body, dict) else None
    details = "; ".join(_error_detail(e) for e in errors) if isinstance(errors, list) else ""
    path = response.raw_request.url.path
    hint = {
        401: " (the token is invalid or expired)",
        403: " (the credentials lack a permission this needs)",
        404: " (not found, or not visible to these credentials)",
    }.get(response.status_code, "")
    return f"GitHub answered {response.status_code} for {path}: {message}{hint}" + (f" [{details}]" if details else "")


def _error_detail(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error)
    if error.get("message"):
        return str(error["message"])
    return f"{error.get('field', '?')}: {error.get('code', 'invalid')}"
