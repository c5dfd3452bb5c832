"""Listing and searching directories through descriptors, never descending into symbolic links."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any

from mcpcloud.packs.roots import Located
from mcpcloud.packs.rootwalk import DIR_FLAGS, Walker


@dataclass(frozen=True)
class Entry:
    relative: str
    name: str
    mode: int
    size: int

    @property
    def label(self) -> str:
        if stat.S_ISDIR(self.mode):
            return "[DIR]"
        return "[LINK]" if stat.S_ISLNK(self.mode) else "[FILE]"


def entries(fd: int) -> list[Entry]:
    found = []
    with os.scandir(fd) as listing:
        for item in listing:
            try:
                info = os.stat(item.name, dir_fd=fd, follow_symlinks=False)
            except OSError:
                continue  # vanished while listing
            found.append(Entry(item.name, item.name, info.st_mode, info.st_size))
    return sorted(found, key=lambda entry: entry.name)


MAX_DEPTH = 100
"""Deeper directories are listed but not entered (the walk recurses; this bounds it)."""


@dataclass
class Budget:
    entries: int
    cut: bool = False

    def take(self) -> bool:
        if self.entries <= 0:
            self.cut = True
            return False
        self.entries -= 1
        return True


def walk(fd: int, budget: Budget, prefix: str = "", depth: int = 0) -> Iterator[tuple[Entry, int | None]]:
    """(entry, descriptor of it when it is a directory we may enter), until the budget or MAX_DEPTH is reached."""
    for entry in entries(fd):
        if not budget.take():
            return
        relative = Entry(prefix + entry.name, entry.name, entry.mode, entry.size)
        if not stat.S_ISDIR(entry.mode):
            yield relative, None
            continue
        if depth >= MAX_DEPTH:
            budget.cut = True
            yield relative, None
            continue
        try:
            child = os.open(entry.name, DIR_FLAGS, dir_fd=fd)
        except OSError:
            yield relative, None  # became a link or vanished: not entered
            continue
        try:
            yield relative, child
        finally:
            os.close(child)


def matches(pattern: str, entry: Entry) -> bool:
    candidates = (entry.relative, entry.name)
    patterns = {pattern, pattern.removeprefix("**/")}
    return any(fnmatchcase(candidate, p) for candidate in candidates for p in patterns)


def excluded(patterns: list[str], entry: Entry) -> bool:
    return any(matches(pattern, entry) or matches(pattern.rstrip("/") + "/*", entry) for pattern in patterns)


def list_directory(walker: Walker, located: Located, with_sizes: bool, sort_by: str) -> str:
    with walker.directory(located) as fd:
        found = entries(fd)
    if not with_sizes:
        return "\n".join(f"{entry.label} {entry.name}" for entry in found) or "(empty directory)"
    if sort_by == "size":
        found.sort(key=lambda entry: (-entry.size, entry.name))
    files = [entry for entry in found if not stat.S_ISDIR(entry.mode)]
    lines = [
        f"{entry.label} {entry.name:<30} {'' if stat.S_ISDIR(entry.mode) else human_size(entry.size):>10}"
        for entry in found
    ]
    total = sum(entry.size for entry in files)
    lines += [
        "",
        f"Total: {len(files)} files, {len(found) - len(files)} directories",
        f"Combined size: {human_size(total)}",
    ]
    return "\n".join(lines)


def directory_tree(walker: Walker, located: Located, exclude: list[str], limit: int) -> tuple[list[Any], bool]:
    budget = Budget(limit)

    def build(fd: int, prefix: str, depth: int) -> list[dict[str, Any]]:
        nodes: list[dict[str, Any]] = []
        for entry, child in walk(fd, budget, prefix, depth):
            if excluded(exclude, entry):
                continue
            if stat.S_ISDIR(entry.mode):
                children = build(child, entry.relative + "/", depth + 1) if child is not None else []
                nodes.append({"name": entry.name, "type": "directory", "children": children})
            else:
                nodes.append({"name": entry.name, "type": "symlink" if stat.S_ISLNK(entry.mode) else "file"})
        return nodes

    with walker.directory(located) as fd:
        tree = build(fd, "", 0)
    return tree, budget.cut


def search(walker: Walker, located: Located, pattern: str, exclude: list[str], limit: int) -> tuple[list[str], bool]:
    budget = Budget(limit)
    found: list[str] = []

    def visit(fd: int, prefix: str, depth: int) -> None:
        for entry, child in walk(fd, budget, prefix, depth):
            if excluded(exclude, entry):
                continue
            if matches(pattern, entry):
                found.append(os.path.join(located.path, entry.relative))
            if child is not None:
                visit(child, entry.relative + "/", depth + 1)

    with walker.directory(located) as fd:
        visit(fd, "", 0)
    return found, budget.cut


def file_info(walker: Walker, located: Located) -> str:
    info = walker.lstat(located)

    def when(seconds: float) -> str:
        return datetime.fromtimestamp(seconds, UTC).isoformat()

    fields = {
        "size": info.st_size,
        "created": when(getattr(info, "st_birthtime", info.st_ctime)),
        "modified": when(info.st_mtime),
        "accessed": when(info.st_atime),
        "isDirectory": stat.S_ISDIR(info.st_mode),
        "isFile": stat.S_ISREG(info.st_mode),
        "isSymbolicLink": stat.S_ISLNK(info.st_mode),
        "permissions": oct(stat.S_IMODE(info.st_mode))[2:],
    }
    return "\n".join(f"{key}: {value}" for key, value in fields.items())


def human_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} TB"
