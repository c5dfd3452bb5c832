"""From a run_command call to exactly what will run, or a refusal saying why.

Checks, in order: argv shape, the program against the allowlist, its argument rules, `cwd`
inside the roots, and every argument that names a path (contains `/`, is `.`/`..`, or names
an existing entry; also the value of `--opt=value` and a short option's attached value)
resolving inside the roots, symlinks followed.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass

from mcpcloud.packs.roots import Located, RefusedPathError, Roots
from mcpcloud.packs.shell.gitdir import check_git_links
from mcpcloud.packs.shell.programs import Program
from mcpcloud.packs.shell.rules import NEVER_STARTED, REFUSED_PROGRAMS, Verdict, refused_option, writes_files


@dataclass(frozen=True)
class Plan:
    program: Program
    argv: tuple[str, ...]
    """As the caller gave it."""
    args: tuple[str, ...]
    """What follows the program when it runs (with injected safety options)."""
    cwd: Located
    read_only: bool

    def describe(self) -> str:
        return f"Run: {shlex.join(self.argv)}\nIn: {self.cwd.path}\nProgram: {self.program.path}"


def make_plan(programs: dict[str, Program], roots: Roots, argv: list[str], cwd: str | None) -> Plan:
    if not argv:
        raise RefusedPathError('argv is empty: give the program, then each argument, e.g. ["git", "status"].')
    if any("\x00" in token for token in argv):
        raise RefusedPathError("An argument contains a NUL byte, which no program argument can hold; remove it.")
    name, args = argv[0], list(argv[1:])
    program = _program(programs, name)
    located = roots.locate(cwd or roots.paths[0])
    refused = refused_option(program.rule, args)
    if refused is not None:
        raise RefusedPathError(
            f"{name} option {refused!r} is refused: it can run other programs, load code, write unchecked "
            "or follow links out of the allowed directories."
        )
    rule = program.rule
    verdict = rule.check(args) if rule.check else Verdict(args=(*rule.injected, *args), writes=writes_files(rule, args))
    if verdict.refusal:
        raise RefusedPathError(verdict.refusal)
    _check_paths(roots, args, located.path)
    if name == "git":
        check_git_links(roots, located)
    return Plan(program, tuple(argv), verdict.args, located, program.read_only and not verdict.writes)


def _program(programs: dict[str, Program], name: str) -> Program:
    if os.sep in name:
        raise RefusedPathError(f"argv[0] must be a program name, not a path: one of {', '.join(sorted(programs))}.")
    if REFUSED_PROGRAMS.match(name):
        raise RefusedPathError(
            f"{name!r} {NEVER_STARTED}. Give the program you want as argv[0] and its arguments as separate items "
            "(no shell syntax)."
        )
    program = programs.get(name)
    if program is None:
        raise RefusedPathError(
            f"{name!r} is not an allowed program (allowed: {', '.join(sorted(programs)) or 'none'}). "
            "Add it to [pack.shell] allow in the mcpcloud config to allow it."
        )
    return program


def _candidates(token: str) -> set[str]:
    """Every reading of the token as a path: itself, an `=value`, a short option's attached value, a file: URL."""
    found = {token}
    if "=" in token:
        found.add(token.split("=", 1)[1])
    if token.startswith("-") and not token.startswith("--"):
        found.update(token[k:] for k in range(2, len(token)))
    found.update("/" + c[len("file:") :].lstrip("/") for c in list(found) if c.lower().startswith("file:"))
    return found


def _check_paths(roots: Roots, args: list[str], cwd: str) -> None:
    for token in args:
        for candidate in _candidates(token):
            if not candidate:
                continue
            looks_like_path = os.sep in candidate or candidate in (".", "..")
            is_path = looks_like_path or os.path.lexists(os.path.join(cwd, candidate))
            if is_path and not roots.contains(candidate, base=cwd):
                raise RefusedPathError(
                    f"Argument {token!r} names a path outside the allowed directories ({roots.describe()}), "
                    "directly or through a symbolic link; only paths inside them may be given."
                )
