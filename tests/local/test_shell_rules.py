"""Argument rules for programs this machine may not have installed (rg), and option spellings that
slip past naive checks: abbreviations, `=value`, clusters, attached values, tar's dashless style."""

from __future__ import annotations

import pytest
from local_helpers import Sandbox

from mcpcloud.packs.roots import RefusedPathError, Roots
from mcpcloud.packs.shell.plan import make_plan
from mcpcloud.packs.shell.programs import Program
from mcpcloud.packs.shell.rules import READ_ONLY_DEFAULT, RULES


def programs() -> dict[str, Program]:
    return {name: Program(name, f"/usr/bin/{name}", RULES[name], name in READ_ONLY_DEFAULT) for name in RULES}


@pytest.mark.parametrize(
    "argv",
    [
        ["rg", "--pre", "touch MARKER", "x"],
        ["rg", "--pre=touch MARKER", "x"],
        ["rg", "--pr=touch", "x"],
        ["rg", "-L", "x"],
        ["rg", "-iL", "x"],
        ["rg", "--follow", "x"],
        ["rg", "-z", "x"],
        ["sort", "--compress-program=touch", "a"],
        ["sort", "--compress-prog=touch", "a"],
        ["tar", "xIf", "touch MARKER", "a.tar"],
        ["tar", "-xvIfoo", "a.tar"],
        ["tar", "--to-c=touch", "-xf", "a.tar"],
        ["ls", "-lL"],
        ["grep", "-rR", "x"],
        ["git", "rebase", "-ix", "touch MARKER"],
        ["git", "--exec-path"],
        ["git", "--work-tree=.", "status"],
        ["git", "help", "log"],
        ["date", "-s", "2020-01-01"],
        ["tar", "-cf", "a.tar", "-T", "list.txt"],
        ["tar", "-cf", "a.tar", "--files-from=list.txt"],
        ["du", "--files0-from=list"],
        ["wc", "--files0-from=list"],
        ["file", "-f", "list.txt"],
        ["find", "-files0-from", "list"],
    ],
)
def test_refused_spellings(sandbox: Sandbox, argv: list[str]) -> None:
    with pytest.raises(RefusedPathError, match=r"refused|not an allowed subcommand"):
        make_plan(programs(), Roots([str(sandbox.root)]), argv, None)


def test_what_runs_and_whether_it_writes(sandbox: Sandbox) -> None:
    roots = Roots([str(sandbox.root)])
    sed = make_plan(programs(), roots, ["sed", "s/a/b/", "hello.txt"], None)
    assert sed.args[0] == "--sandbox" and sed.read_only
    assert not make_plan(programs(), roots, ["sed", "-i", "s/a/b/", "hello.txt"], None).read_only
    assert not make_plan(programs(), roots, ["sort", "-o", "out.txt", "hello.txt"], None).read_only
    git_log = make_plan(programs(), roots, ["git", "log", "-1"], None)
    assert git_log.args[-3:] == ("--no-ext-diff", "--no-textconv", "-1") and "core.fsmonitor=false" in git_log.args
    assert make_plan(programs(), roots, ["git", "status"], None).read_only
    assert not make_plan(programs(), roots, ["git", "commit", "-m", "x"], None).read_only
    assert not make_plan(programs(), roots, ["git", "log", "--output=log.txt"], None).read_only
    assert make_plan(programs(), roots, ["diff", "-r", "a", "b"], None).args[0] == "--no-dereference"
    assert make_plan(programs(), roots, ["rg", "-n", "hello"], None).read_only
    with pytest.raises(RefusedPathError, match="outside the allowed directories"):
        make_plan(programs(), roots, ["rg", "-g/etc/*", "x"], None)
    for url in ("file:///etc/passwd", "file:/etc/passwd", "--reference=file:///etc"):
        with pytest.raises(RefusedPathError, match="outside the allowed directories"):
            make_plan(programs(), roots, ["git", "clone", url, "copy"], None)
    with pytest.raises(RefusedPathError, match="NUL byte"):
        make_plan(programs(), roots, ["cat", "hello.txt\x00"], None)
