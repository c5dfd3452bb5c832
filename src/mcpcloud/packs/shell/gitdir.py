"""Keeping git's repository discovery inside the roots.

git looks for `.git` in the working directory and then in each parent, and a `.git` may be a
file (`gitdir: /elsewhere`) or a symlink. Left alone, `git log` in a root that is not itself a
repository would read the history of a repository above it, or wherever a `.git` file points.
Here: git may not look above the roots (`GIT_CEILING_DIRECTORIES`), and a `.git` between the
working directory and its root that is not a plain directory must lead inside the roots.
"""

from __future__ import annotations

import os

from mcpcloud.packs.roots import Located, RefusedPathError, Roots


def ceiling(roots: Roots) -> dict[str, str]:
    """Environment that stops git's upward search at the roots (a root itself may be the repository)."""
    return {"GIT_CEILING_DIRECTORIES": os.pathsep.join(sorted({os.path.dirname(root) for root in roots.paths}))}


def check_git_links(roots: Roots, cwd: Located) -> None:
    """The first `.git` git would find from `cwd` up to its root, when it is a link or a file, must lead inside."""
    for depth in range(len(cwd.parts), -1, -1):
        entry = os.path.join(cwd.root, *cwd.parts[:depth], ".git")
        if not os.path.lexists(entry):
            continue
        if os.path.islink(entry) or not os.path.isdir(entry):
            target = _pointed_at(entry)
            if not roots.contains(target):
                raise RefusedPathError(
                    f"{entry} leads to a repository outside the allowed directories; git is not run there."
                )
        return


def _pointed_at(entry: str) -> str:
    if os.path.islink(entry):
        return os.path.realpath(entry)
    try:
        with open(entry, encoding="utf-8", errors="replace") as pointer:
            line = pointer.readline(4096).strip()
    except OSError:
        return entry
    if not line.startswith("gitdir:"):
        return entry
    target = line[len("gitdir:") :].strip()
    return os.path.realpath(os.path.join(os.path.dirname(entry), target))
