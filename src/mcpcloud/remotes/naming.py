"""Local names for remote tools: prefixed, legal, unique, and the same on every start.

MCP tool names are `^[a-zA-Z0-9_-]{1,64}$`. A remote tool `echo` of remote `team` is offered
as `team_echo`. When that name is too long, or collides with a local tool or another remote
tool, it is shortened and given a suffix hashed from the remote and the remote tool's own
name, so the same tool always gets the same local name, whatever else is listed.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Collection, Iterable

MAX_TOOL_NAME = 64
_ILLEGAL = re.compile(r"[^A-Za-z0-9_-]")
_SUFFIX_CHARS = 8


def default_prefix(remote: str) -> str:
    return f"{remote}_"


def candidate(prefix: str, upstream_name: str) -> str:
    return _ILLEGAL.sub("_", prefix + upstream_name)


def hashed(remote: str, prefix: str, upstream_name: str) -> str:
    """The shortened, collision-proof form: `<prefix><start of name>_<8 hex of sha256(remote, name)>`."""
    digest = hashlib.sha256(f"{remote}\x1f{upstream_name}".encode()).hexdigest()[:_SUFFIX_CHARS]
    room = MAX_TOOL_NAME - len(prefix) - _SUFFIX_CHARS - 1
    return f"{candidate(prefix, upstream_name[: max(room, 0)])}_{digest}"[-MAX_TOOL_NAME:]


def local_names(remote: str, prefix: str, upstream_names: Iterable[str], taken: Collection[str]) -> dict[str, str]:
    """Upstream name -> local name for one remote's tools.

    `taken` holds the names already in use (local tools, other remotes). Every name whose plain
    candidate is illegal in length, taken, or shared with another tool of this remote gets the
    hashed form, so no outcome depends on the order the remote lists its tools in.
    """
    names = list(dict.fromkeys(upstream_names))
    plain = {name: candidate(prefix, name) for name in names}
    counts: dict[str, int] = {}
    for local in plain.values():
        counts[local] = counts.get(local, 0) + 1
    result: dict[str, str] = {}
    for name, local in plain.items():
        clash = len(local) > MAX_TOOL_NAME or local in taken or counts[local] > 1 or not local
        result[name] = hashed(remote, prefix, name) if clash else local
    return result


def selected(name: str, include: list[str], exclude: list[str]) -> bool:
    """Whether a remote tool passes the `tools` / `exclude_tools` glob filters."""
    if any(fnmatch.fnmatchcase(name, pattern) for pattern in exclude):
        return False
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in include)
