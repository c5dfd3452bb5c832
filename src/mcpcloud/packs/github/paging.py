"""Cursors for GitHub lists: GitHub pages with `Link: <...page=N>; rel="next"`; tools hand out
an opaque cursor bound to the query it came from, so it cannot be replayed against another.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from mcp.server.mcpserver.exceptions import ToolError

NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


def next_page(link_header: str | None) -> int | None:
    match = NEXT_LINK.search(link_header or "")
    if not match:
        return None
    pages = parse_qs(urlsplit(match.group(1)).query).get("page")
    return int(pages[0]) if pages and pages[0].isdigit() else None


def query_digest(tool: str, arguments: dict[str, Any]) -> str:
    canonical = json.dumps({"tool": tool, **arguments}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(page: int | None, digest: str) -> str | None:
    if page is None:
        return None
    return base64.urlsafe_b64encode(json.dumps({"p": page, "q": digest}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, digest: str) -> int:
    """The page a cursor points at (1 without a cursor)."""
    if not cursor:
        return 1
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        page, bound_to = int(data["p"]), data["q"]
    except (ValueError, KeyError, TypeError):
        raise ToolError("cursor is not one this tool returned: pass next_cursor unchanged, or omit it") from None
    if bound_to != digest:
        raise ToolError("cursor belongs to a different query: repeat the same arguments with it, or omit it")
    return page
