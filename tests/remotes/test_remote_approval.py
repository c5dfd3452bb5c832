"""Human approval for remote tools in hybrid mode: the same policy, binding and question as a pack's tools.

A real remote (an SDK server speaking both eras, or the team's `mcpcloud serve`), a hybrid
`mcpcloud serve` over stdio, the SDK client in both eras. The remote's side effect (`delete_note`
writes a line in its events file) shows whether it was called.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import ElicitResult, InputRequiredResult
from tests.conftest import MCPCLOUD, server_env, start_server
from tests.local.local_helpers import Approver, text_of
from tests.remotes.conftest import (
    CloudRemote,
    LegacyRemote,
    approve_remote,
    bearer,
    create_api_key,
    http_client,
    hybrid_params,
    toml_remote,
)
from tests.remotes.test_hybrid import wait_for_tools
from tests.remotes.test_relay import ANSWERS

from mcpcloud.approval import Approvals
from mcpcloud.approval.binding import Binding, arguments_digest
from mcpcloud.config import ApprovalSettings
from mcpcloud.remotes.approved import PREFIX, unwrap_state, wrap_state

MODERN = "2026-07-28"
ERAS = ["legacy", MODERN]


@pytest.fixture(params=ERAS)
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


def old_config(remote: LegacyRemote, approval: str = "") -> str:
    return approval + toml_remote("old", remote.url, token_file=f'"{remote.token_file}"')


def deleted(remote: LegacyRemote) -> list[str]:
    return [line for line in remote.event_lines() if line.startswith("deleted ")]


async def test_a_destructive_remote_tool_asks_and_runs_only_when_granted(
    tmp_path: Path, sdk_both_eras: LegacyRemote, mode: str
) -> None:
    approver = Approver()
    async with Client(
        hybrid_params(tmp_path, old_config(sdk_both_eras)), mode=mode, elicitation_callback=approver
    ) as c:
        await wait_for_tools(c, {"old_delete_note", "old_shout"})
        shouted = await c.call_tool("old_shout", {"text": "read only"})
        assert not shouted.is_error and approver.asked == [], "a read-only remote tool is not asked about"
        result = await c.call_tool("old_delete_note", {"note": "groceries"})
    assert not result.is_error and text_of(result) == "deleted groceries", text_of(result)
    assert deleted(sdk_both_eras) == ["deleted groceries"]
    [question] = approver.asked
    assert question.startswith("Allow old_delete_note?")
    assert "Call tool 'delete_note' of remote 'old' with arguments:" in question
    assert '"note": "groceries"' in question


@pytest.mark.parametrize(
    "answer",
    [Approver("accept", approve=False), Approver("decline"), Approver("cancel")],
    ids=["unchecked", "declined", "cancelled"],
)
async def test_a_refused_approval_never_reaches_the_remote(
    tmp_path: Path, sdk_both_eras: LegacyRemote, mode: str, answer: Approver
) -> None:
    async with Client(hybrid_params(tmp_path, old_config(sdk_both_eras)), mode=mode, elicitation_callback=answer) as c:
        await wait_for_tools(c, {"old_delete_note"})
        result = await c.call_tool("old_delete_note", {"note": "taxes"})
        assert result.is_error and "old_delete_note was not run" in text_of(result)
        assert not (await c.call_tool("old_shout", {"text": "still fine"})).is_error
    assert answer.asked and "taxes" in answer.asked[0]
    assert deleted(sdk_both_eras) == [], "the remote was called although the person said no"


async def test_a_client_that_cannot_ask_is_refused_with_the_setting_to_change(
    tmp_path: Path, sdk_both_eras: LegacyRemote, mode: str
) -> None:
    async with Client(hybrid_params(tmp_path, old_config(sdk_both_eras)), mode=mode) as client:
        await wait_for_tools(client, {"old_delete_note"})
        refused = await client.call_tool("old_delete_note", {"note": "a"})
    text = text_of(refused)
    assert refused.is_error and "cannot ask you" in text and '[approval.tools] old_delete_note = "never"' in text
    assert deleted(sdk_both_eras) == []
    # The setting the refusal names is accepted for a remote's tool (its name arrives only at run time) and works.
    suggested = json.loads(text.split("MCPCLOUD_APPROVAL__TOOLS='")[1].split("'")[0])
    params = hybrid_params(tmp_path, old_config(sdk_both_eras), MCPCLOUD_APPROVAL__TOOLS=json.dumps(suggested))
    async with Client(params, mode=mode) as client:
        await wait_for_tools(client, {"old_delete_note"})
        assert not (await client.call_tool("old_delete_note", {"note": "b"})).is_error
    assert deleted(sdk_both_eras) == ["deleted b"]


def test_an_unknown_approval_tool_name_names_the_remote_prefix(tmp_path: Path, legacy: LegacyRemote) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(old_config(legacy, '[approval.tools]\nnot_a_tool = "never"\n\n'))
    run = subprocess.run(
        [MCPCLOUD, "serve", "--transport", "stdio", "--config", str(config)],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        env=server_env(MCPCLOUD_STATE_DIR=str(tmp_path / "state")),
        check=False,
    )
    assert run.returncode != 0
    assert "approval.tools.not_a_tool: no enabled tool has this name" in run.stderr
    assert "a remote's tool, named old_…" in run.stderr


async def test_a_remote_cannot_flip_its_annotations_to_skip_the_question(tmp_path: Path, legacy: LegacyRemote) -> None:
    approver = Approver(approve=False)
    params = hybrid_params(tmp_path, old_config(legacy))
    async with Client(params, mode="legacy", elicitation_callback=approver) as client:
        await wait_for_tools(client, {"old_delete_note"})
        # The remote now claims delete_note is read-only (what a compromised server would do to skip approval).
        await client.call_tool("old_reannotate", {"tool": "delete_note", "read_only": True})
        with anyio.fail_after(15):
            while "old_delete_note" in {t.name for t in (await client.list_tools()).tools}:
                await anyio.sleep(0.1)
        withheld = await client.call_tool("old_delete_note", {"note": "photos"})
        assert withheld.is_error and "withheld: annotations changed since it was approved" in text_of(withheld)
        assert deleted(legacy) == [] and approver.asked == []

        approve = await approve_remote(tmp_path, params, "old")
        assert approve.returncode == 0, approve.stderr
        assert '+    "readOnlyHint": true' in approve.stdout, approve.stdout
        # Only after a person approved the new definition does the tool run as read-only: without a question.
        allowed = await client.call_tool("old_delete_note", {"note": "photos"})
        assert not allowed.is_error, text_of(allowed)
    assert deleted(legacy) == ["deleted photos"] and approver.asked == []


async def test_a_2026_approval_cannot_be_replayed_for_other_arguments(
    tmp_path: Path, sdk_both_eras: LegacyRemote
) -> None:
    params = hybrid_params(tmp_path, old_config(sdk_both_eras))
    approved = {"approval": ElicitResult(action="accept", content={"approve": True})}
    async with Client(params, mode=MODERN, elicitation_callback=Approver()) as client:
        await wait_for_tools(client, {"old_delete_note"})

        async def answered(note: str, state: str | None) -> Any:
            return await client.session.call_tool(
                "old_delete_note",
                {"note": note},
                input_responses=approved,
                request_state=state,
                allow_input_required=True,
            )

        question = await client.session.call_tool("old_delete_note", {"note": "one"}, allow_input_required=True)
        assert isinstance(question, InputRequiredResult) and question.request_state
        try:
            replay = await answered("everything", question.request_state)
            assert replay.is_error and "was given for another call" in text_of(replay)
        except MCPError as exc:  # the SDK's own request binding refuses it first
            assert "requestState" in exc.error.message
        forged = await answered("everything", None)
        assert forged.is_error and "was given for another call" in text_of(forged), "an answer nobody was asked"
        granted = await answered("one", question.request_state)
        assert not granted.is_error, text_of(granted)
    assert deleted(sdk_both_eras) == ["deleted one"]


class Answers:
    """Approves, then answers the remote's own questions; keeps every question, in order."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def __call__(self, _context: Any, params: Any) -> ElicitResult:
        self.asked.append(params.message)
        if params.message.startswith("Allow "):
            return ElicitResult(action="accept", content={"approve": True})
        return ElicitResult(action="accept", content=ANSWERS.get(params.message, {"name": "Ada"}))


async def test_approval_comes_first_then_the_remotes_own_questions(
    tmp_path: Path, conformance_cloud: CloudRemote, mode: str
) -> None:
    tool = "team_test_input_required_result_multi_round"
    config = f'[approval.tools]\n{tool} = "always"\n\n' + toml_remote(
        "team",
        conformance_cloud.url,
        headers=f'{{ Authorization = "Bearer {conformance_cloud.key}" }}',
        tools='["test_input_required_result_multi_round"]',
    )
    answers = Answers()
    async with Client(hybrid_params(tmp_path, config), mode=mode, elicitation_callback=answers) as client:
        await wait_for_tools(client, {tool})
        result = await client.call_tool(tool, {})
    assert not result.is_error, result.content
    assert result.content[0].text == "Ada's favorite color is blue"
    assert answers.asked[0].startswith(f"Allow {tool}?") and answers.asked[1:] == list(ANSWERS)


async def test_approval_then_a_handshake_era_remotes_question(tmp_path: Path, legacy: LegacyRemote, mode: str) -> None:
    config = old_config(legacy, '[approval.tools]\nold_ask_name = "always"\n\n')
    answers = Answers()
    async with Client(hybrid_params(tmp_path, config), mode=mode, elicitation_callback=answers) as client:
        await wait_for_tools(client, {"old_ask_name"})
        greeted = await client.call_tool("old_ask_name", {})
    assert not greeted.is_error and text_of(greeted) == "hello Ada", text_of(greeted)
    assert answers.asked[0].startswith("Allow old_ask_name?") and answers.asked[1:] == ["What is your name?"]


def test_a_wrapped_remote_state_comes_back_only_for_the_approved_call() -> None:
    """Below the SDK's own sealing: the remote's state travels with the approval's binding, checked on each retry."""
    approvals = Approvals(ApprovalSettings(), caller_of=lambda context: context.caller)
    args = {"note": "one"}
    binding = Binding.new("local:ada", "old_delete_note", arguments_digest("old_delete_note", args), 60)
    question = InputRequiredResult(input_requests={}, request_state="remote-state-1")
    state = wrap_state(question, binding).request_state
    assert state.startswith(PREFIX) and "remote-state-1" in state

    def unwrap(caller: str, tool: str, arguments: dict[str, Any], sent: str = state) -> str | None:
        return unwrap_state(approvals, SimpleNamespace(caller=caller), tool, arguments, sent)[1]

    assert unwrap("local:ada", "old_delete_note", args) == "remote-state-1"
    for caller, tool, arguments, sent in [
        ("local:bob", "old_delete_note", args, state),
        ("local:ada", "old_other", args, state),
        ("local:ada", "old_delete_note", {"note": "everything"}, state),
        ("local:ada", "old_delete_note", args, PREFIX + "not json"),
    ]:
        with pytest.raises(ToolError, match="was given for another call"):
            unwrap(caller, tool, arguments, sent)


async def test_on_an_http_gateway_a_destructive_remote_tool_asks_too(
    tmp_path: Path, sdk_both_eras: LegacyRemote, mode: str
) -> None:
    keys = tmp_path / "gateway-keys.json"
    key = await anyio.to_thread.run_sync(create_api_key, keys, "*")
    config = tmp_path / "gateway.toml"
    config.write_text(old_config(sdk_both_eras))
    env = {
        "MCPCLOUD_AUTH__MODES": "api_keys",
        "MCPCLOUD_AUTH__API_KEYS__FILE": str(keys),
        "MCPCLOUD_STATE_DIR": str(tmp_path / "state"),
        "MCPCLOUD_HTTP__SHUTDOWN_GRACE_SECONDS": "1",
    }
    gateway = await anyio.to_thread.run_sync(lambda: start_server(tmp_path, "--config", str(config), env=env))
    try:
        for answer, note in ((Approver("decline"), "kept"), (Approver(), "gone")):
            async with http_client(gateway.url, bearer(key), mode=mode, elicitation_callback=answer) as client:
                await wait_for_tools(client, {"old_delete_note"})
                result = await client.call_tool("old_delete_note", {"note": note})
            assert result.is_error == (note == "kept") and answer.asked, text_of(result)
    finally:
        gateway.stop()
    assert deleted(sdk_both_eras) == ["deleted gone"]
