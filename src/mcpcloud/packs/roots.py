"""Directories a local pack may touch (`roots`), and where a requested path falls among them.

Shared by the `filesystem` and `shell` packs. Containment is decided on the fully resolved path
(`realpath`: symlinks followed, `..` gone) compared component-wise with each resolved root, so
`/srv/a` never admits `/srv/a_x`, and a symlink inside a root that points out of it is outside.
Resolving is only the first half: whoever then opens the path must do so without following
links (see `packs/rootwalk.py`), so a link swapped in after this check is refused.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

MAX_PATH_BYTES = 4096
MAX_NAME_BYTES = 255


class RefusedPathError(Exception):
    """A requested path that is malformed or outside every root; the message is for the caller."""


def parse_roots(value: Any) -> Any:
    """Roots from TOML (a list) or the environment (a JSON list, or paths joined by the OS path separator)."""
    if isinstance(value, str):
        text = value.strip()
        return json.loads(text) if text.startswith("[") else [part for part in text.split(os.pathsep) if part]
    return value


def resolved_roots(paths: list[str]) -> list[str]:
    return [resolved_root(path) for path in paths]


def resolved_root(path: str) -> str:
    real = os.path.realpath(os.path.expanduser(path))
    if not os.path.isdir(real):
        raise ValueError(f"root {path!r} is not an existing directory")
    return real


RootList = Annotated[
    list[str], BeforeValidator(lambda value: parse_roots(value)), AfterValidator(resolved_roots), Field(min_length=1)
]
"""A settings field of root directories: a list in TOML, a JSON list or OS path list in the environment."""


def check_syntax(requested: str) -> None:
    if not isinstance(requested, str) or not requested.strip():
        raise RefusedPathError("The path is empty: give a path inside one of the allowed directories.")
    if "\x00" in requested:
        raise RefusedPathError("The path contains a NUL byte, which no file name can hold; remove it.")
    encoded = os.fsencode(requested)
    if len(encoded) > MAX_PATH_BYTES:
        raise RefusedPathError(f"The path is {len(encoded)} bytes long; the limit is {MAX_PATH_BYTES}.")
    longest = max((len(os.fsencode(part)) for part in requested.split(os.sep)), default=0)
    if longest > MAX_NAME_BYTES:
        raise RefusedPathError(
            f"A name in the path is {longest} bytes long; file names are limited to {MAX_NAME_BYTES}."
        )


@dataclass(frozen=True)
class Located:
    root: str
    parts: tuple[str, ...]
    """Components below the root, none of them `.`, `..` or empty."""

    @property
    def path(self) -> str:
        return os.path.join(self.root, *self.parts)


class Roots:
    def __init__(self, paths: list[str]) -> None:
        if not paths:
            raise ValueError("at least one root directory is required")
        self.paths: tuple[str, ...] = tuple(dict.fromkeys(resolved_root(path) for path in paths))

    def describe(self) -> str:
        return ", ".join(self.paths)

    def locate(self, requested: str, base: str | None = None) -> Located:
        """The root holding `requested` (relative paths are taken from `base`, else the first root)."""
        check_syntax(requested)
        expanded = os.path.expanduser(requested)
        absolute = expanded if os.path.isabs(expanded) else os.path.join(base or self.paths[0], expanded)
        real = os.path.realpath(absolute)
        for root in self.paths:
            if real == root:
                return Located(root, ())
            prefix = root if root.endswith(os.sep) else root + os.sep
            if real.startswith(prefix):
                return Located(root, tuple(real[len(prefix) :].split(os.sep)))
        raise RefusedPathError(
            f"{requested!r} is outside the allowed directories ({self.describe()})"
            + (": a symbolic link on the way points out of them" if real != os.path.normpath(absolute) else "")
            + ". Use a path inside one of them."
        )

    def contains(self, requested: str, base: str | None = None) -> bool:
        try:
            self.locate(requested, base)
        except RefusedPathError:
            return False
        return True
