"""Reads the documentation the way tests/test_docs.py checks it: fenced blocks, their tags, links, headings.

The convention for fenced blocks (the first word of the info string is the language GitHub
highlights; the words after it are ours and GitHub ignores them):

    ```sh run            executed, in order, by one bash (`set -euo pipefail`, variables carry over)
    ```sh run exit=2     executed; must exit with that status (a documented failure)
    ```sh serve          started in the background; the next blocks run once it answers /readyz;
                         a later `serve` block replaces it; stopped with SIGTERM at the end
    ```sh cluster        needs a cluster: validated offline (overlays render, scripts answer --help)
    ```toml file=PATH    written to PATH (relative to the reader's directory) at that point
    ```sh                shown only (an install step, a cloud console, an illustration)

Every runnable block runs in a scratch directory with a scratch HOME, the checkout's `mcpcloud`
first on PATH, and port 8000 replaced by a free port.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC_PORT = "8000"

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_LINK = re.compile(r"(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\((?P<target><[^>]+>|[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_IMAGE = re.compile(r"!\[[^\]]*\]\((?P<target>[^)\s]+)\)")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
_HEADING = re.compile(r"^(#{1,6})\s+(?P<text>.+?)\s*#*\s*$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    lang: str
    tags: dict[str, str] = field(default_factory=dict)
    text: str = ""

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def kind(self) -> str | None:
        """run, serve, cluster, file, or None for a block that is only shown."""
        for kind in ("run", "serve", "cluster", "file"):
            if kind in self.tags:
                return kind
        return None


def documents() -> list[Path]:
    """Every Markdown file of the repository that a reader sees (not dependencies' or tools' copies)."""
    skip = {".venv", ".venv-deploy", "node_modules", ".conformance", ".mermaid", ".pytest_cache", ".git"}
    return sorted(p for p in ROOT.rglob("*.md") if not skip.intersection(p.relative_to(ROOT).parts))


def blocks(path: Path) -> list[Block]:
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opened = _FENCE.match(lines[index])
        # CommonMark: a backtick fence's info string has no backtick (else it is inline code).
        if not opened or (opened["fence"][0] == "`" and "`" in opened["info"]):
            index += 1
            continue
        fence, info = opened["fence"], opened["info"].strip()
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not re.match(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$", lines[end]):
            body.append(lines[end])
            end += 1
        words = info.split()
        tags = dict(word.split("=", 1) if "=" in word else (word, "") for word in words[1:])
        found.append(Block(path, index + 1, words[0] if words else "", tags, "\n".join(body) + "\n"))
        index = end + 1
    return found


def prose_lines(path: Path) -> list[tuple[int, str]]:
    """The lines outside fenced blocks, numbered, with inline code removed (links in code are not links)."""
    return [(number, _INLINE_CODE.sub("", line)) for number, line in prose_lines_raw(path)]


def prose_lines_raw(path: Path) -> list[tuple[int, str]]:
    """The numbered lines outside fenced blocks."""
    fenced = set()
    for block in blocks(path):
        fenced.update(range(block.line, block.line + block.text.count("\n") + 2))
    text = path.read_text(encoding="utf-8").splitlines()
    return [(n, line) for n, line in enumerate(text, 1) if n not in fenced]


def links(path: Path) -> list[tuple[int, str]]:
    found = []
    for number, line in prose_lines(path):
        for pattern in (_LINK, _IMAGE):
            for match in pattern.finditer(line):
                found.append((number, match["target"].strip("<>")))
    return found


def anchors(path: Path) -> set[str]:
    """The heading anchors GitHub generates for a Markdown file (duplicates get -1, -2, ...)."""
    seen: dict[str, int] = {}
    result = set()
    for _, line in prose_lines_raw(path):
        heading = _HEADING.match(line)
        if not heading:
            continue
        slug = github_slug(heading["text"])
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def github_slug(heading: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text stays, its target goes
    text = text.replace("`", "").strip().lower()
    kept = "".join(ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in "LN")
    return kept.replace(" ", "-")


def section(path: Path, title: str) -> list[str]:
    """The prose lines under the heading `title`, up to the next heading of the same or a higher level."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        heading = _HEADING.match(line)
        if heading and heading["text"] == title:
            level = len(heading.group(1))
            body = []
            for following in lines[index + 1 :]:
                other = _HEADING.match(following)
                if other and len(other.group(1)) <= level:
                    break
                body.append(following)
            return body
    raise LookupError(f"{path.name}: no heading {title!r}")
