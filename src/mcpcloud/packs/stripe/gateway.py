"""One way to Stripe: the official SDK (async over HTTPX), errors made tool-sized, and the
idempotency key that makes a retried or replayed write return its first result.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable
from typing import Any, TypeVar

import stripe
from mcp.server.mcpserver.exceptions import ToolError

from mcpcloud.packs.stripe.settings import StripeSettings

_T = TypeVar("_T")


def make_client(settings: StripeSettings, http: stripe.HTTPXClient) -> stripe.StripeClient:
    # Retries off: a retry would be ours to decide, and the idempotency key makes the caller's retry safe.
    return stripe.StripeClient(
        settings.api_key.get_secret_value(),
        base_addresses={"api": settings.api_base.rstrip("/")},
        http_client=http,
        max_network_retries=0,
    )


def idempotency_key(caller: str, tool: str, arguments: dict[str, Any]) -> str:
    """The same caller making the same call gets the same key, so Stripe replays the first result (24 h)."""
    canonical = json.dumps({"caller": caller, "tool": tool, "args": arguments}, sort_keys=True, default=str)
    return "mcpcloud-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


async def call(awaitable: Awaitable[_T]) -> _T:
    try:
        return await awaitable
    except stripe.StripeError as exc:
        raise ToolError(describe(exc)) from None


def describe(exc: stripe.StripeError) -> str:
    """Stripe's error object as one sentence naming the parameter; never the key."""
    status = getattr(exc, "http_status", None)
    if isinstance(exc, stripe.AuthenticationError):
        return "Stripe refused the API key (401): it is wrong, revoked, or for another account"
    if isinstance(exc, stripe.PermissionError):
        return (
            f"Stripe refused (403): the restricted key lacks a permission this needs: {exc.user_message or ''}".rstrip(
                ": "
            )
        )
    if isinstance(exc, stripe.RateLimitError):
        return "Stripe rate limit reached (429): retry in a few seconds"
    if isinstance(exc, stripe.APIConnectionError):
        return "cannot reach Stripe: network error or timeout; the call may be retried safely (same idempotency key)"
    error = (exc.json_body or {}).get("error", {}) if isinstance(exc.json_body, dict) else {}
    parts = [f"Stripe rejected the request ({status}): {error.get('message') or exc.user_message or 'unknown error'}"]
    if error.get("param"):
        parts.append(f"parameter: {error['param']}")
    if error.get("code"):
        parts.append(f"code: {error['code']}")
    if error.get("decline_code"):
        parts.append(f"decline code: {error['decline_code']}")
    return "; ".join(parts)


def as_dict(obj: Any) -> dict[str, Any]:
    return obj.to_dict(recursive=True, for_json=True) if hasattr(obj, "to_dict") else dict(obj)
