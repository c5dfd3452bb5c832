"""git's argument rules: no global options that redirect it or set configuration, builtin subcommands
only (aliases come from configuration and `!alias` runs a shell), no options that name programs,
and configuration overrides that switch off what a repository's own config could make git run."""

from __future__ import annotations

from mcpcloud.packs.shell.rules import RULES, Rule, Verdict, cluster_letters

# Global options (before the subcommand) that are harmless; all others (-c, -C, --git-dir, --work-tree,
# --exec-path, --config-env, -p/--paginate, --namespace ...) are refused.
SAFE_GLOBALS = frozenset(
    {
        "--no-pager",
        "-P",
        "--no-optional-locks",
        "--literal-pathspecs",
        "--glob-pathspecs",
        "--noglob-pathspecs",
        "--icase-pathspecs",
        "--no-replace-objects",
        "--version",
    }
)
READ_ONLY = frozenset(
    {
        "status",
        "log",
        "diff",
        "show",
        "blame",
        "grep",
        "ls-files",
        "ls-tree",
        "rev-parse",
        "rev-list",
        "describe",
        "shortlog",
        "cat-file",
        "diff-tree",
        "diff-files",
        "diff-index",
        "show-ref",
        "for-each-ref",
        "count-objects",
        "whatchanged",
        "name-rev",
        "merge-base",
        "check-ignore",
        "version",
        "show-branch",
    }
)
CHANGING = frozenset(
    {
        "add",
        "commit",
        "checkout",
        "switch",
        "restore",
        "reset",
        "rm",
        "mv",
        "stash",
        "merge",
        "rebase",
        "cherry-pick",
        "revert",
        "tag",
        "branch",
        "init",
        "fetch",
        "pull",
        "push",
        "clone",
        "apply",
        "am",
        "clean",
        "notes",
        "reflog",
        "gc",
        "remote",
        "worktree",
    }
)
# Options of subcommands that name a program to run, an editor session, or a remote helper command.
REFUSED_ANYWHERE = frozenset(
    {
        "--upload-pack",
        "--receive-pack",
        "--exec",
        "--ext-diff",
        "--textconv",
        "--open-files-in-pager",
        "--extcmd",
        "--tool",
        "--interactive",
        "--edit-description",
        "--template",
        "--separate-git-dir",
        "--recurse-submodules",
        "--config",
    }
)
REFUSED_LETTERS = {  # short options with the same meaning in these subcommands
    "rebase": "xi",
    "clone": "uc",
    "fetch": "u",
    "pull": "u",
    "ls-remote": "u",
    "grep": "O",
    "archive": "",
    "add": "ip",
    "commit": "p",
    "checkout": "p",
    "restore": "p",
    "reset": "p",
    "stash": "p",
    "clean": "i",
}
# Overrides that win over any configuration file: no fsmonitor hook program, no hooks, no pager,
# no `ext::` remote helper (runs a command), no editor.
OVERRIDES = (
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.pager=cat",
    "-c",
    "protocol.ext.allow=never",
    "-c",
    "core.editor=true",
    "-c",
    "sequence.editor=true",
)
NO_EXTERNAL_DIFF = {
    "diff": ("--no-ext-diff", "--no-textconv"),
    "log": ("--no-ext-diff", "--no-textconv"),
    "show": ("--no-ext-diff", "--no-textconv"),
    "whatchanged": ("--no-ext-diff", "--no-textconv"),
}


def git_verdict(args: list[str]) -> Verdict:
    index = 0
    while index < len(args) and args[index].startswith("-"):
        if args[index] not in SAFE_GLOBALS:
            return Verdict(
                refusal=f"git option {args[index]!r} is refused: options before the subcommand can set "
                "configuration or point git elsewhere (-c, -C, --git-dir, --work-tree, --exec-path ...)."
            )
        index += 1
    if index == len(args):
        return Verdict(args=(*OVERRIDES, *args))
    subcommand, rest = args[index], args[index + 1 :]
    if subcommand not in READ_ONLY and subcommand not in CHANGING:
        return Verdict(
            refusal=f"git {subcommand!r} is not an allowed subcommand (config, submodule, bisect, difftool, "
            "aliases and the like can run other programs). Allowed: " + ", ".join(sorted(READ_ONLY | CHANGING)) + "."
        )
    letters = set(REFUSED_LETTERS.get(subcommand, ""))
    for token in rest:
        name = token.split("=", 1)[0]
        abbreviated = name.startswith("--") and len(name) > 3 and any(o.startswith(name) for o in REFUSED_ANYWHERE)
        if name in REFUSED_ANYWHERE or abbreviated:
            return Verdict(refusal=f"git {subcommand} option {token!r} is refused: it can run another program.")
        if token.startswith("-") and not token.startswith("--") and letters & set(cluster_letters(token[1:])):
            return Verdict(refusal=f"git {subcommand} option {token!r} is refused: it can run another program.")
    if any(token.startswith("ext::") for token in rest):
        return Verdict(refusal="git URLs of the form ext:: run a command; refused.")
    injected = NO_EXTERNAL_DIFF.get(subcommand, ())
    writes_output = any(token.split("=", 1)[0] == "--output" for token in rest)  # git diff/log --output=FILE
    return Verdict(
        args=(*OVERRIDES, *args[:index], subcommand, *injected, *rest),
        writes=subcommand not in READ_ONLY or writes_output,
    )


GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "PAGER": "cat", "GIT_EDITOR": "true"}
RULES["git"] = Rule(check=git_verdict, env=GIT_ENV)
