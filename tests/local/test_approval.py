"""Human approval through the client, on both protocol eras: granted, declined, replayed for another
call, and a client that cannot ask. What the person is shown names the path and diff, or argv and cwd."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from local_helpers import Approver, Sandbox, text_of
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import ElicitResult, InputRequiredResult
from tests.conftest import MCPCLOUD, server_env, start_server

MODERN = "2026-07-28"
ERAS = ["legacy", MODERN]
WRITES = {"MCPCLOUD_PACK__FILESYSTEM__ALLOW_WRITES": "true"}
APPROVED = {"approval": ElicitResult(action="accept", content={"approve": True})}


@pytest.fixture(params=ERAS)
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


async def test_granted_approval_shows_the_path_and_diff_then_writes(sandbox: Sandbox, mode: str) -> None:
    approver = Approver()
    async with Client(sandbox.params(**WRITES), mode=mode, elicitation_callback=approver) as client:
        result = await client.call_tool("write_file", {"path": "hello.txt", "content": "goodbye\n"})
        edit = await client.call_tool(
            "edit_file", {"path": "hello.txt", "edits": [{"oldText": "good", "newText": "fare"}], "dryRun": True}
        )
    assert not result.is_error and not edit.is_error, text_of(result)
    assert (sandbox.root / "hello.txt").read_text() == "goodbye\n"
    assert len(approver.asked) == 1, "a dry run changes nothing and asks nobody"
    question = approver.asked[0]
    assert question.startswith("Allow write_file?") and str(sandbox.root / "hello.txt") in question
    assert "-hello" in question and "+goodbye" in question
    sandbox.assert_untouched()


@pytest.mark.parametrize(
    "answer",
    [Approver("accept", approve=False), Approver("decline"), Approver("cancel")],
    ids=["unchecked", "declined", "cancelled"],
)
async def test_a_declined_approval_changes_nothing(sandbox: Sandbox, mode: str, answer: Approver) -> None:
    async with Client(sandbox.params(**WRITES), mode=mode, elicitation_callback=answer) as client:
        result = await client.call_tool("move_file", {"source": "hello.txt", "destination": "moved.txt"})
    assert result.is_error and "move_file was not run" in text_of(result)
    assert answer.asked and "Move " in answer.asked[0] and "moved.txt" in answer.asked[0]
    assert sorted(p.name for p in sandbox.root.iterdir()) == ["hello.txt"]
    sandbox.assert_untouched()


async def test_a_client_that_cannot_ask_is_refused_with_the_setting_to_change(sandbox: Sandbox, mode: str) -> None:
    async with Client(sandbox.params(**WRITES), mode=mode) as client:  # no elicitation callback: not declared
        result = await client.call_tool("write_file", {"path": "new.txt", "content": "x"})
    text = text_of(result)
    assert result.is_error and "cannot ask you" in text and '[approval.tools] write_file = "never"' in text
    assert not (sandbox.root / "new.txt").exists()
    suggested = json.loads(text.split("MCPCLOUD_APPROVAL__TOOLS='")[1].split("'")[0])
    env = {**WRITES, "MCPCLOUD_APPROVAL__TOOLS": json.dumps(suggested)}
    async with Client(sandbox.params(**env), mode=mode) as client:
        result = await client.call_tool("write_file", {"path": "new.txt", "content": "x"})
    assert not result.is_error, "the setting the refusal names lets the tool run"
    assert (sandbox.root / "new.txt").read_text() == "x"
    sandbox.assert_untouched()


async def answered(session: Any, arguments: dict[str, str], state: str | None) -> Any:
    """write_file sent with an approving answer and the given requestState, as a client could send it."""
    return await session.call_tool(
        "write_file", arguments, input_responses=APPROVED, request_state=state, allow_input_required=True
    )


async def test_an_approval_cannot_be_replayed_for_other_arguments_or_twice(sandbox: Sandbox) -> None:
    args = {"path": "a.txt", "content": "approved content"}
    async with Client(sandbox.params(**WRITES), mode=MODERN, elicitation_callback=Approver()) as client:
        session = client.session
        question = await session.call_tool("write_file", args, allow_input_required=True)
        assert isinstance(question, InputRequiredResult) and question.request_state
        assert str(sandbox.root / "a.txt") in question.input_requests["approval"].params.message
        refusals = []
        for other in ({"path": "b.txt", "content": "approved content"}, {"path": "a.txt", "content": "other content"}):
            try:
                replay = await answered(session, other, question.request_state)
                refusals.append(replay.is_error and text_of(replay))
            except MCPError as exc:  # the SDK's own request binding may refuse it first
                refusals.append(exc.error.message)
        forged = await answered(session, args, None)
        assert forged.is_error and "was given for another call" in text_of(forged), "an answer nobody was asked"
        granted = await answered(session, args, question.request_state)
        assert not granted.is_error, text_of(granted)
        (sandbox.root / "a.txt").unlink()
        again = await answered(session, args, question.request_state)
        assert again.is_error and "already used" in text_of(again)
    assert all(refusals), refusals
    assert sorted(p.name for p in sandbox.root.iterdir()) == ["hello.txt"]
    sandbox.assert_untouched()


async def test_every_handshake_era_call_asks_afresh(sandbox: Sandbox) -> None:
    approver = Approver()
    async with Client(sandbox.params(**WRITES), mode="legacy", elicitation_callback=approver) as client:
        for n in range(2):
            assert not (await client.call_tool("write_file", {"path": f"{n}.txt", "content": "x"})).is_error
    assert len(approver.asked) == 2


async def test_commands_that_write_ask_with_argv_and_cwd_and_read_only_ones_do_not(sandbox: Sandbox, mode: str) -> None:
    (sandbox.root / "sub").mkdir()
    approver = Approver()
    env = {"MCPCLOUD_PACK__SHELL__ALLOW": "ls,mkdir"}
    async with Client(sandbox.params("core,shell", **env), mode=mode, elicitation_callback=approver) as client:
        listed = await client.call_tool("run_command", {"argv": ["ls"], "cwd": "sub"})
        made = await client.call_tool("run_command", {"argv": ["mkdir", "new dir"], "cwd": "sub"})
    assert not listed.is_error and not made.is_error
    assert approver.asked == [
        f"Allow run_command?\n\nRun: mkdir 'new dir'\nIn: {sandbox.root / 'sub'}\nProgram: "
        + approver.asked[0].rsplit("Program: ", 1)[1]
    ]
    assert (sandbox.root / "sub/new dir").is_dir()
    async with Client(sandbox.params("core,shell", **env), mode=mode) as client:
        refused = await client.call_tool("run_command", {"argv": ["mkdir", "other"]})
        allowed = await client.call_tool("run_command", {"argv": ["ls"]})
    assert refused.is_error and 'run_command = "never"' in text_of(refused) and not allowed.is_error
    assert not (sandbox.root / "other").exists()
    sandbox.assert_untouched()


async def test_any_packs_tool_can_require_approval_with_its_arguments_shown(sandbox: Sandbox, mode: str) -> None:
    approver = Approver()
    env = {"MCPCLOUD_APPROVAL__TOOLS": '{"echo": "always", "list_directory": "always"}'}
    async with Client(sandbox.params(**env), mode=mode, elicitation_callback=approver) as client:
        echoed = await client.call_tool("echo", {"message": "hi there"})
        listed = await client.call_tool("list_directory", {"path": "."})
    assert text_of(echoed) == "hi there" and "hello.txt" in text_of(listed)
    assert "Allow echo?" in approver.asked[0] and '"message": "hi there"' in approver.asked[0]
    assert len(approver.asked) == 2


def test_approval_settings_naming_no_tool_are_a_configuration_error(sandbox: Sandbox) -> None:
    env = server_env(
        MCPCLOUD_PACK__FILESYSTEM__ROOTS=json.dumps([str(sandbox.root)]),
        MCPCLOUD_APPROVAL__TOOLS='{"wirte_file": "never"}',
    )
    done = subprocess.run(
        [MCPCLOUD, "tools", "--packs", "core,filesystem"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and "approval.tools.wirte_file: no enabled tool has this name" in done.stderr


def test_approval_works_over_http_on_both_eras(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> None:
    import anyio

    env = {**WRITES, "MCPCLOUD_PACK__FILESYSTEM__ROOTS": json.dumps([str(sandbox.root)])}
    server = start_server(tmp_path_factory.mktemp("http"), "--packs", "core,filesystem", env=env)

    async def write(mode: str, approver: Approver, name: str) -> bool:
        async with Client(server.url, mode=mode, elicitation_callback=approver) as client:
            return (await client.call_tool("write_file", {"path": name, "content": mode})).is_error

    try:
        for mode in ERAS:
            assert anyio.run(write, mode, Approver(), f"{mode}.txt") is False
            assert anyio.run(write, mode, Approver("decline"), f"declined-{mode}.txt") is True
    finally:
        server.stop()
    assert sorted(p.name for p in sandbox.root.iterdir()) == ["2026-07-28.txt", "hello.txt", "legacy.txt"]
    sandbox.assert_untouched()
