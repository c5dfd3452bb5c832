"""Opaque list cursors bound to the query they came from, shared by the SaaS packs.

A cursor carries the position of the next page (a page number for GitHub, the last object id
for Stripe) and a digest of the tool and its arguments, so it cannot be replayed against
another query: that is refused with a message saying what to do instead.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError


def query_digest(tool: str, arguments: dict[str, Any]) -> str:
    canonical = json.dumps({"tool": tool, **arguments}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(position: Any, digest: str) -> str | None:
    """A cursor for `position`, or None (no next page) when position is None."""
    if position is None:
        return None
    return base64.urlsafe_b64encode(json.dumps({"p": position, "q": digest}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, digest: str) -> Any:
    """The position a cursor points at; None without a cursor (the first page)."""
    if not cursor:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        position, bound_to = data["p"], data["q"]
    except (ValueError, KeyError, TypeError):
        raise ToolError("cursor is not one this tool returned: pass next_cursor unchanged, or omit it") from None
    if bound_to != digest:
        raise ToolError("cursor belongs to a different query: repeat the same arguments with it, or omit it")
    return position
