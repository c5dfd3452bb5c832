"""How a suite run is judged: scored failures fail, unscored ones do not, the baseline stays honest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conformance_suite import SuiteError, SuiteRun, expected_failures, judge, parse_server_section, read_checks

PASS = {"id": "ok-check", "status": "SUCCESS"}
WARN = {"id": "should-check", "status": "WARNING", "errorMessage": "a SHOULD"}
FAIL = {"id": "must-check", "status": "FAILURE", "errorMessage": "server did the wrong thing"}


def run_with(checks: dict[str, list[dict[str, object]]]) -> SuiteRun:
    return SuiteRun(requirements="2026-07-28", exit_code=0, stdout="", stderr="", checks=checks)


def test_a_failing_check_in_a_scored_scenario_fails_with_its_message() -> None:
    verdict = judge(run_with({"a": [PASS], "b": [PASS, FAIL]}), scored=["a", "b"], expected={})
    assert not verdict.ok
    assert verdict.failing == {"b": ["must-check: server did the wrong thing"]}
    assert "FAIL b" in verdict.report() and "server did the wrong thing" in verdict.report()


def test_warnings_and_unscored_failures_do_not_fail() -> None:
    verdict = judge(run_with({"a": [PASS, WARN], "extension-x": [FAIL]}), scored=["a"], expected={})
    assert verdict.ok, verdict.report()


def test_a_scored_scenario_that_left_no_results_fails() -> None:
    verdict = judge(run_with({"a": [PASS]}), scored=["a", "never-ran"], expected={})
    assert verdict.failing == {"never-ran": ["(the scenario produced no results)"]}


def test_an_expected_failure_is_excused_and_one_that_passes_is_reported() -> None:
    run = run_with({"known": [FAIL], "fixed": [PASS]})
    verdict = judge(run, scored=["known", "fixed"], expected={"known": "SDK limitation", "fixed": "SDK limitation"})
    assert verdict.failing == {}
    assert verdict.now_passing == {"fixed": "SDK limitation"}
    assert not verdict.ok and "NOW PASSES fixed" in verdict.report()


def test_an_expected_failure_must_name_a_scored_scenario() -> None:
    with pytest.raises(SuiteError, match="not scored"):
        judge(run_with({}), scored=["a"], expected={"typo-scenario": "reason"})


def test_expected_failures_are_read_per_requirement_set(tmp_path: Path) -> None:
    path = tmp_path / "expected.toml"
    path.write_text('[requirements."2026-07-28"]\n"caching" = "because"\n\n[requirements."2025-11-25"]\n')
    assert expected_failures("2026-07-28", path) == {"caching": "because"}
    assert expected_failures("2025-11-25", path) == {}


def test_results_are_read_from_the_suite_output_layout(tmp_path: Path) -> None:
    for scenario in ("tools-call-image", "server-stateless"):
        folder = tmp_path / f"server-{scenario}-2026-11-25T04-23-13-129Z"
        folder.mkdir()
        (folder / "checks.json").write_text(json.dumps([PASS]))
    assert read_checks(tmp_path) == {"tools-call-image": [PASS], "server-stateless": [PASS]}


def test_scored_server_scenarios_are_parsed_from_the_listing() -> None:
    listing = (
        "Required for 2026-07-28 (3 scenarios):\n\nServer scenarios (test against a server):\n"
        "  - server-stateless\n  - caching\n\nClient scenarios (test against a client):\n  - tools_call\n"
    )
    assert parse_server_section(listing) == ["server-stateless", "caching"]
    with pytest.raises(SuiteError):
        parse_server_section("nothing here")
