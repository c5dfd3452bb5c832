"""The shell pack over stdio with the SDK client: the escapes that broke other shell servers fail,
and afterwards no marker file exists (nothing injected ran) and nothing outside the root changed."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from local_helpers import Sandbox, flipping, no_approval, pid_alive, text_of
from mcp import Client
from tests.conftest import MCPCLOUD, server_env, start_server

ALLOW = "ls,cat,git,find,sed,tar,grep,sort,mkdir,printenv,spawner"
SPAWNER = """\
#!/bin/sh
# Leaves a grandchild behind and waits: the timeout must kill both.
sleep 300 &
echo $! > "$1"
sleep 300
"""


def shell_env(sandbox: Sandbox, **extra: str) -> dict[str, str]:
    bin_dir = sandbox.base / "bin"
    bin_dir.mkdir(exist_ok=True)
    spawner = bin_dir / "spawner"
    spawner.write_text(SPAWNER)
    spawner.chmod(0o755)
    sandbox.before = sandbox.outside_state()  # the test's own program directory is not a change
    return no_approval(
        MCPCLOUD_PACK__SHELL__ALLOW=ALLOW,
        MCPCLOUD_PACK__SHELL__PATH=f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        MCPCLOUD_PACK__SHELL__PROGRAMS='{"printenv": {"read_only": true}, "spawner": {}}',
        **extra,
    )


async def run(client: Client, argv: list[str], **arguments: Any) -> tuple[bool, str, dict[str, Any]]:
    result = await client.call_tool("run_command", {"argv": argv, **arguments})
    return result.is_error, text_of(result), result.structured_content or {}


async def refused(client: Client, argv: list[str], expected: str, **arguments: Any) -> str:
    error, text, _ = await run(client, argv, **arguments)
    assert error and expected in text, (argv, text)
    return text


async def test_shells_and_interpreters_are_never_started(sandbox: Sandbox) -> None:
    texts = []
    async with Client(sandbox.params("core,shell", **shell_env(sandbox))) as client:
        for argv in (
            ["sh", "-c", "touch MARKER"],
            ["bash", "-c", "touch MARKER"],
            ["python3", "-c", "open('MARKER', 'w')"],
            ["perl", "-e", "open(F, '>MARKER')"],
            ["awk", 'BEGIN { system("touch MARKER") }'],
            ["env", "touch", "MARKER"],
            ["xargs", "touch"],
            ["nice", "touch", "MARKER"],
        ):
            texts.append(await refused(client, argv, "a shell, an interpreter or a program that runs other programs"))
        texts.append(await refused(client, ["/bin/sh", "-c", "touch MARKER"], "must be a program name, not a path"))
        texts.append(await refused(client, ["touch", "MARKER"], "not an allowed program"))
        texts.append(await refused(client, [], "argv is empty"))
    sandbox.assert_untouched(*texts)


async def test_shell_syntax_in_arguments_is_only_text(sandbox: Sandbox) -> None:
    async with Client(sandbox.params("core,shell", **shell_env(sandbox))) as client:
        for injected in (
            "x; touch MARKER",
            "$(touch MARKER)",
            "`touch MARKER`",
            "x\ntouch MARKER",
            "x | touch MARKER",
            "x && touch MARKER",
            "x > MARKER",
        ):
            error, _, result = await run(client, ["ls", injected])
            assert not error and result["exit_code"] != 0 and "No such file" in result["stderr"], injected
        error, _, result = await run(client, ["ls", "-1"])
        assert not error and result["stdout"] == "hello.txt\n"
    sandbox.assert_untouched()


async def test_find_cannot_execute_delete_or_follow_links(sandbox: Sandbox) -> None:
    async with Client(sandbox.params("core,shell", **shell_env(sandbox))) as client:
        for argv in (
            ["find", ".", "-exec", "touch", "MARKER", ";"],
            ["find", ".", "-execdir", "touch", "MARKER", ";"],
            ["find", ".", "-ok", "touch", "MARKER", ";"],
            ["find", ".", "-okdir", "touch", "MARKER", ";"],
            ["find", ".", "-delete"],
            ["find", ".", "-fprint", "MARKER"],
            ["find", "-L", "."],
        ):
            await refused(client, argv, "is refused")
        error, _, result = await run(client, ["find", ".", "-name", "*.txt"])
        assert not error and result["stdout"] == "./hello.txt\n"
    assert (sandbox.root / "hello.txt").exists()
    sandbox.assert_untouched()


def _repository(root: Path) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".git/config").write_text(
        textwrap.dedent("""\
        [core]
        \trepositoryformatversion = 0
        \tbare = false
        \tfsmonitor = "touch MARKER; false"
        \tpager = touch MARKER
        [alias]
        \tx = !touch MARKER
        [user]
        \tname = Test
        \temail = test@example.com
        """)
    )
    hook = root / ".git/hooks/pre-commit"
    hook.write_text("#!/bin/sh\ntouch MARKER\n")
    hook.chmod(0o755)


def _git_log(root: Path) -> str:
    done = subprocess.run(["git", "-C", str(root), "log", "--oneline"], capture_output=True, text=True, check=True)
    return done.stdout


async def test_git_cannot_be_made_to_run_programs(sandbox: Sandbox) -> None:
    _repository(sandbox.root)
    async with Client(sandbox.params("core,shell", **shell_env(sandbox))) as client:
        for argv in (
            ["git", "-c", "alias.y=!touch MARKER", "y"],
            ["git", "-c", "core.pager=touch MARKER", "log"],
            ["git", "--exec-path=.", "status"],
            ["git", "-C", "../outside", "status"],
            ["git", "--git-dir=../outside", "status"],
            ["git", "--config-env=core.pager=HOME", "log"],
            ["git", "-p", "log"],
        ):
            await refused(client, argv, "options before the subcommand")
        for argv in (
            ["git", "x"],  # an alias from the repository's config: `!touch MARKER`
            ["git", "config", "core.pager", "touch MARKER"],
            ["git", "submodule", "foreach", "touch MARKER"],
            ["git", "difftool", "-x", "touch MARKER"],
            ["git", "archive", "--exec=touch MARKER", "--remote=.", "HEAD"],
        ):
            await refused(client, argv, "not an allowed subcommand")
        for argv in (
            ["git", "fetch", "--upload-pack=touch MARKER", "."],
            ["git", "fetch", "--upload-p=touch MARKER", "."],
            ["git", "clone", "-u", "touch MARKER", ".", "copy"],
            ["git", "log", "--ext-diff"],
            ["git", "grep", "-Otouch", "hello"],
            ["git", "rebase", "-x", "touch MARKER", "HEAD"],
        ):
            await refused(client, argv, "it can run another program")
        await refused(client, ["git", "fetch", "ext::sh -c touch% MARKER"], "ext::")
        # The repository's own config names fsmonitor, pager and hook programs: none of them runs.
        for argv in (
            ["git", "add", "hello.txt"],
            ["git", "status"],
            ["git", "commit", "-m", "first"],
            ["git", "log"],
            ["git", "diff", "HEAD"],
        ):
            error, text, result = await run(client, argv)
            assert not error and result["exit_code"] == 0, (argv, text)
    assert "first" in _git_log(sandbox.root)
    sandbox.assert_untouched()


async def test_tar_and_sed_cannot_execute_commands(sandbox: Sandbox) -> None:
    async with Client(sandbox.params("core,shell", **shell_env(sandbox))) as client:
        for argv in (
            ["tar", "-cf", "a.tar", "--checkpoint=1", "--checkpoint-action=exec=touch MARKER", "hello.txt"],
            ["tar", "-cf", "a.tar", "--checkpoint-act=exec=touch MARKER", "hello.txt"],
            ["tar", "-xf", "a.tar", "--to-command=touch MARKER"],
            ["tar", "-cf", "a.tar", "--use-compress-program=touch MARKER", "hello.txt"],
            ["tar", "-I", "touch MARKER", "-cf", "a.tar", "hello.txt"],
            ["tar", "cIf", "touch MARKER", "a.tar", "hello.txt"],
            ["tar", "-cPf", "a.tar", "hello.txt"],
        ):
            await refused(client, argv, "is refused")
        error, _, result = await run(client, ["tar", "-cf", "a.tar", "hello.txt"])
        assert not error and result["exit_code"] == 0
        for script in ("1e touch MARKER", "s/hello/x/e", "w MARKER", "r ../outside/secret.txt"):
            error, _, result = await run(client, ["sed", script, "hello.txt"])
            assert not error and result["exit_code"] != 0 and "disabled in sandbox mode" in result["stderr"], script
    sandbox.assert_untouched()


async def test_cwd_and_path_arguments_stay_inside_the_roots(sandbox: Sandbox) -> None:
    (sandbox.root / "sub").mkdir()
    (sandbox.root / "link.txt").symlink_to(sandbox.outside / "secret.txt")
    (sandbox.root / "linkdir").symlink_to(sandbox.outside)
    texts = []
    async with Client(sandbox.params("core,shell", **shell_env(sandbox))) as client:
        for cwd in (str(sandbox.sibling), "..", str(sandbox.outside), "linkdir", "/"):
            texts.append(await refused(client, ["ls"], "outside the allowed directories", cwd=cwd))
        for argv in (
            ["cat", "../outside/secret.txt"],
            ["cat", str(sandbox.outside / "secret.txt")],
            ["cat", str(sandbox.sibling / "secret.txt")],
            ["cat", "link.txt"],  # a bare name that is a symlink out
            ["cat", "linkdir/secret.txt"],
            ["ls", ".."],
            ["grep", "-r", "CANARY", ".."],
            ["grep", "--file=../outside/secret.txt", "hello.txt"],
            ["grep", "-f../outside/secret.txt", "hello.txt"],
            ["sort", "-o", "../outside/sorted", "hello.txt"],
            ["find", "/", "-name", "secret.txt"],
            ["tar", "-cf", "a.tar", "-C", "..", "outside"],
        ):
            texts.append(await refused(client, argv, "outside the allowed directories"))
        texts.append(await refused(client, ["grep", "-R", "CANARY", "."], "is refused"))
        error, _, result = await run(client, ["ls"], cwd="sub")
        assert not error and result["exit_code"] == 0
        error, _, result = await run(client, ["grep", "-r", "hello", "."])
        assert not error and "hello" in result["stdout"] and sandbox.secret not in result["stdout"]
    sandbox.assert_untouched(*texts)


async def test_a_cwd_swapped_for_a_link_out_after_the_check_is_not_entered(sandbox: Sandbox) -> None:
    flip = sandbox.root / "flip"
    flip.mkdir()
    (flip / "inside.txt").write_text("inside")
    seen = set()
    async with Client(sandbox.params("core,shell", **shell_env(sandbox))) as client:
        with flipping(flip, sandbox.outside):
            for _ in range(100):
                error, _, result = await run(client, ["ls"], cwd="flip")
                seen.add("refused" if error else result["stdout"])
    assert seen <= {"refused", "inside.txt\n"}, seen
    sandbox.assert_untouched()


async def test_timeout_kills_the_whole_process_group(sandbox: Sandbox) -> None:
    pid_file = sandbox.root / "grandchild.pid"
    async with Client(sandbox.params("core,shell", **shell_env(sandbox))) as client:
        started = time.monotonic()
        error, _, result = await run(client, ["spawner", "grandchild.pid"], timeout_seconds=1)
        assert time.monotonic() - started < 20
        assert not error and result["timed_out"] is True and result["exit_code"] is None
        assert "timed out after 1 seconds" in result["stderr"]
        await refused(client, ["ls"], "timeout_seconds must be between 1 and 300", timeout_seconds=301)
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while pid_alive(grandchild) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not pid_alive(grandchild), "the background child outlived the timeout"
    sandbox.assert_untouched()


async def test_the_servers_tool_timeout_also_kills_the_process_group(sandbox: Sandbox) -> None:
    env = shell_env(sandbox, MCPCLOUD_LIMITS__TOOL_TIMEOUT_SECONDS="1")
    async with Client(sandbox.params("core,shell", **env)) as client:
        error, text, _ = await run(client, ["spawner", "grandchild.pid"], timeout_seconds=60)
        assert error and "timed out" in text
    grandchild = int((sandbox.root / "grandchild.pid").read_text())
    deadline = time.monotonic() + 5
    while pid_alive(grandchild) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not pid_alive(grandchild), "the background child outlived the server's tool timeout"


async def test_output_is_capped_and_the_environment_reduced(sandbox: Sandbox) -> None:
    (sandbox.root / "big.txt").write_text("x" * 5000)
    env = shell_env(sandbox, MCPCLOUD_PACK__SHELL__MAX_OUTPUT_BYTES="1000", DEPLOY_TOKEN="do-not-pass-me")
    async with Client(sandbox.params("core,shell", **env)) as client:
        error, _, result = await run(client, ["cat", "big.txt"])
        assert not error and result["truncated"] is True
        assert result["stdout"].startswith("x" * 1000)
        assert "[output truncated: 4000 more bytes not shown (max_output_bytes = 1000)]" in result["stdout"]
        error, _, result = await run(client, ["printenv"])
        names = {line.split("=", 1)[0] for line in result["stdout"].splitlines()}
        assert not error and "PATH" in names and "DEPLOY_TOKEN" not in names and "PYTHONPATH" not in names
        assert names <= {"PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "USER", "LOGNAME", "TERM"}
    sandbox.assert_untouched()


async def test_every_run_and_refusal_is_audited_with_its_argv(sandbox: Sandbox) -> None:
    audit = sandbox.base / "audit.log"
    env = shell_env(
        sandbox, MCPCLOUD_AUDIT__ENABLED="true", MCPCLOUD_AUDIT__SINK="file", MCPCLOUD_AUDIT__FILE=str(audit)
    )
    async with Client(sandbox.params("core,shell", **env)) as client:
        await run(client, ["ls", "-1"])
        await refused(client, ["sh", "-c", "id"], "interpreter")
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    runs = [r for r in records if r["event"] == "shell_run"]
    refusals = [r for r in records if r["event"] == "shell_refused"]
    assert runs and runs[0]["argv"] == ["ls", "-1"] and runs[0]["exit_code"] == 0 and runs[0]["program"].endswith("/ls")
    assert refusals and refusals[0]["argv"] == ["sh", "-c", "id"]


def test_run_command_is_refused_over_http_unless_allowed(sandbox: Sandbox, tmp_path: Path) -> None:
    import anyio

    async def call(url: str) -> tuple[bool, str]:
        async with Client(url) as client:
            result = await client.call_tool("run_command", {"argv": ["ls"]})
            return result.is_error, text_of(result)

    env = {**shell_env(sandbox), "MCPCLOUD_PACK__SHELL__ROOTS": json.dumps([str(sandbox.root)])}
    server = start_server(tmp_path, "--packs", "core,shell", env=env)
    try:
        error, text = anyio.run(call, server.url)
    finally:
        server.stop()
    assert error and "refused over HTTP" in text and "allow_on_http = true" in text
    allowed = start_server(
        tmp_path, "--packs", "core,shell", env={**env, "MCPCLOUD_PACK__SHELL__ALLOW_ON_HTTP": "true"}
    )
    try:
        error, text = anyio.run(call, allowed.url)
    finally:
        allowed.stop()
    assert not error and "hello.txt" in text


@pytest.mark.parametrize(
    "allow,message",
    [
        ("ls,bash", "'bash' is a shell, an interpreter"),
        ("python3", "'python3' is a shell, an interpreter"),
        ("ls,nosuchprogram", "has no argument rules in mcpcloud"),
        ("/bin/ls", "must be a program name found on PATH"),
    ],
)
def test_the_allowlist_refuses_interpreters_and_programs_without_rules(
    sandbox: Sandbox, allow: str, message: str
) -> None:
    env = server_env(MCPCLOUD_PACK__SHELL__ROOTS=json.dumps([str(sandbox.root)]), MCPCLOUD_PACK__SHELL__ALLOW=allow)
    done = subprocess.run([MCPCLOUD, "tools", "--packs", "shell"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert os.listdir(sandbox.root) == ["hello.txt"]


async def test_git_does_not_reach_repositories_outside_the_roots(sandbox: Sandbox) -> None:
    _commit_everything(sandbox.base)  # the directory above the root is a repository holding the canaries
    for name, pointer in (("viafile", None), ("vialink", sandbox.base / ".git")):
        (sandbox.root / name).mkdir()
        if pointer is None:
            (sandbox.root / name / ".git").write_text(f"gitdir: {sandbox.base / '.git'}\n")
        else:
            (sandbox.root / name / ".git").symlink_to(pointer)
    env = shell_env(sandbox)  # takes the outside snapshot after the repository exists
    texts = []
    async with Client(sandbox.params("core,shell", **env)) as client:
        error, text, result = await run(client, ["git", "log", "-p"])
        assert not error and result["exit_code"] != 0 and "not a git repository" in result["stderr"]
        texts.append(text)
        for cwd in ("viafile", "vialink"):
            texts.append(await refused(client, ["git", "log", "-p"], "leads to a repository outside", cwd=cwd))
    sandbox.assert_untouched(*texts)


def _commit_everything(directory: Path) -> None:
    git = ["git", "-C", str(directory), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "canaries"]):
        subprocess.run([*git, *command], check=True, capture_output=True)
