"""Per-program argument rules: which flags are refused because they run other programs, load code,
follow links out of the roots or write where nothing checks; and which calls change nothing.

Only programs with rules here (or rules given in configuration) can be allowed at all; shells
and interpreters never can, since any argument rule would be beside the point for them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

# Shells, interpreters, and programs whose job is to run another program or open a shell.
REFUSED_PROGRAMS = re.compile(
    r"^(sh|bash|dash|zsh|ksh|mksh|ash|csh|tcsh|fish|rbash|busybox|toybox"
    r"|python[0-9.]*|pypy[0-9.]*|perl[0-9.]*|ruby[0-9.]*|irb|node(js)?|deno|bun|php[0-9.]*|lua(jit)?[0-9.]*"
    r"|tclsh[0-9.]*|wish[0-9.]*|expect|R|Rscript|julia|java|jshell|groovy|scala|erl|escript|elixir|iex|ocaml|guile"
    r"|racket|sbcl|clisp|ghci|runghc|osascript|pwsh|powershell|cmd|awk|gawk|mawk|nawk|busybox"
    r"|env|xargs|nice|nohup|timeout|sudo|su|doas|pkexec|runuser|setsid|stdbuf|chroot|flock|watch|time|unshare"
    r"|nsenter|strace|ltrace|gdb|lldb|valgrind|script|parallel|ssh|scp|sftp|rsync|make|gmake|cmake|ninja"
    r"|vi|vim|nvim|view|emacs|nano|ed|ex|less|more|most|man|pager|screen|tmux|socat|nc|ncat|netcat|telnet"
    r"|curl|wget|docker|podman|kubectl|systemd-run|at|batch|crontab|npm|npx|pip[0-9.]*|pipx|uv|uvx|cargo|go"
    r"|gcc|cc|clang|ld|tee|dd)$"
)


NEVER_STARTED = "is a shell, an interpreter or a program that runs other programs; run_command never starts one"


@dataclass(frozen=True)
class Rule:
    refused: frozenset[str] = frozenset()
    """Options refused wherever they appear: `--long` (also abbreviated or with `=value`), `-single-dash`
    words (find), and single letters inside short-option clusters (`-xIprog`)."""
    refused_letters: frozenset[str] = frozenset()
    writes: frozenset[str] = frozenset()
    """Options that make a call change files, so it is not read-only even for a read-only program."""
    always_writes: bool = False
    letters_in_first_word: bool = False
    """tar's old style: `tar xIf prog a.tar` is a cluster without the dash."""
    injected: tuple[str, ...] = ()
    """Arguments put right after the program name (sed --sandbox)."""
    check: Callable[[list[str]], Verdict] | None = None
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """A program-specific decision: refused (with why), the arguments to run, and whether they write."""

    refusal: str | None = None
    args: tuple[str, ...] = ()
    writes: bool = False


def _long_name(token: str) -> str:
    return token.split("=", 1)[0]


def refused_option(rule: Rule, args: list[str]) -> str | None:
    """The first argument that names a refused option, or None."""
    long_refused = [option for option in rule.refused if option.startswith("--")]
    for index, token in enumerate(args):
        if token.startswith("--") and len(token) > 2:
            name = _long_name(token)
            # getopt/argp accept unambiguous abbreviations: --to-com means --to-command.
            if any(option == name or option.startswith(name) for option in long_refused) and len(name) > 3:
                return token
        elif token in rule.refused:
            return token
        elif token.startswith("-") and len(token) > 1 and not token.startswith("--"):
            if rule.refused_letters & set(cluster_letters(token[1:])):
                return token
        elif index == 0 and rule.letters_in_first_word and rule.refused_letters & set(token):
            return token
    return None


def cluster_letters(cluster: str) -> str:
    """Letters of a short-option cluster; anything after a non-letter is an attached value, not options."""
    match = re.match(r"[A-Za-z]*", cluster)
    return match.group(0) if match else ""


def writes_files(rule: Rule, args: list[str]) -> bool:
    if rule.always_writes:
        return True
    for token in args:
        name = _long_name(token) if token.startswith("--") else token
        if name in rule.writes:
            return True
        short = token.startswith("-") and not token.startswith("--")
        if short and {option[1:] for option in rule.writes if len(option) == 2} & set(cluster_letters(token[1:])):
            return True
    return False


FOLLOW_LINKS = frozenset({"-L", "--dereference", "--follow"})
FILE_LISTS = frozenset({"--files0-from", "--files-from"})
"""Options that read the names to work on from a file, where the path checks cannot see them."""

RULES: dict[str, Rule] = {
    "ls": Rule(refused=FOLLOW_LINKS | {"--dereference-command-line-symlink-to-dir"}, refused_letters=frozenset("L")),
    "cat": Rule(),
    "head": Rule(),
    "tail": Rule(),
    "wc": Rule(refused=FILE_LISTS),
    "cut": Rule(),
    "uniq": Rule(),
    "basename": Rule(),
    "dirname": Rule(),
    "pwd": Rule(),
    "echo": Rule(),
    "date": Rule(refused=frozenset({"--set"}), refused_letters=frozenset("s")),
    "stat": Rule(refused=frozenset({"--dereference"}), refused_letters=frozenset("L")),
    "file": Rule(refused=FILE_LISTS | {"--compile"}, refused_letters=frozenset("Cf")),
    "du": Rule(refused=FOLLOW_LINKS | FILE_LISTS | {"--dereference-args"}, refused_letters=frozenset("L")),
    # diff -r follows symlinks met while recursing, unlike grep -r, find or rg: tell it not to.
    "diff": Rule(refused=frozenset({"--diff-program", "--dereference"}), injected=("--no-dereference",)),
    "sort": Rule(refused=FILE_LISTS | {"--compress-program"}, writes=frozenset({"-o", "--output"})),
    "grep": Rule(refused=frozenset({"--dereference-recursive"}), refused_letters=frozenset("R")),
    "rg": Rule(refused=frozenset({"--pre", "--follow", "--search-zip"}), refused_letters=frozenset("Lz")),
    "find": Rule(
        refused=frozenset(
            {
                "-exec",
                "-execdir",
                "-ok",
                "-okdir",
                "-delete",
                "-fprint",
                "-fprint0",
                "-fprintf",
                "-fls",
                "-L",
                "-follow",
                "-files0-from",
            }
        )
    ),
    "sed": Rule(
        # --sandbox makes GNU sed reject its e (execute), r (read) and w (write) commands.
        injected=("--sandbox",),
        writes=frozenset({"-i", "--in-place"}),
        refused=frozenset({"--follow-symlinks"}),
    ),
    "tar": Rule(
        refused=frozenset(
            {
                "--checkpoint-action",
                "--to-command",
                "--use-compress-program",
                "--info-script",
                "--new-volume-script",
                "--rmt-command",
                "--rsh-command",
                "--absolute-names",
                "--dereference",
                "--index-file",
                "--files-from",
            }
        ),
        refused_letters=frozenset("IFPhT"),
        letters_in_first_word=True,
        always_writes=True,
    ),
    "mkdir": Rule(always_writes=True),
    "touch": Rule(always_writes=True, refused_letters=frozenset()),
    "cp": Rule(refused=FOLLOW_LINKS, refused_letters=frozenset("L"), always_writes=True),
    "mv": Rule(always_writes=True),
    "rm": Rule(always_writes=True),
}

READ_ONLY_DEFAULT = (  # git: only its read-only subcommands (git.py decides per call)
    "git",
    "ls",
    "cat",
    "head",
    "tail",
    "wc",
    "cut",
    "basename",
    "dirname",
    "pwd",
    "echo",
    "date",
    "stat",
    "file",
    "du",
    "diff",
    "sort",
    "grep",
    "rg",
    "find",
    "sed",
)
