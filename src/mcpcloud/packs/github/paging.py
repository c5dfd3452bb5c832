"""GitHub pages with `Link: <...?page=N>; rel="next"`: the next page number, for a cursor (packs/cursors.py)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


def next_page(link_header: str | None) -> int | None:
    match = NEXT_LINK.search(link_header or "")
    if not match:
        return None
    pages = parse_qs(urlsplit(match.group(1)).query).get("page")
    return int(pages[0]) if pages and pages[0].isdigit() else None
