"""The official MCP conformance suite against `mcpcloud serve --transport http --packs core,conformance`.

Every scenario a requirement set scores must pass, except the ones listed (with the
SDK limitation that explains them) in tests/conformance/expected-failures.toml; a
listed scenario that starts passing fails the test too. Scenarios the suite runs but
does not score (extensions, pending ones) are reported and never decide the outcome.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conformance_suite import (
    REQUIREMENT_SETS,
    Suite,
    SuiteError,
    expected_failures,
    install,
    judge,
)
from tests.conftest import RunningServer

pytestmark = pytest.mark.conformance


@pytest.fixture(scope="module")
def suite() -> Suite:
    try:
        return install()
    except SuiteError as exc:
        pytest.fail(f"cannot install the conformance suite: {exc}")


@pytest.fixture(scope="module")
def server_url(conformance_server: RunningServer) -> str:
    return conformance_server.url


@pytest.mark.parametrize("requirements", REQUIREMENT_SETS)
def test_every_scored_scenario_passes(suite: Suite, server_url: str, requirements: str, tmp_path: Path) -> None:
    scored = suite.scored_server_scenarios(requirements)
    run = suite.run(server_url, requirements, tmp_path / "results")
    verdict = judge(run, scored, expected_failures(requirements))
    print(verdict.report())  # shown with -s, and by pytest on failure
    assert verdict.ok, f"{verdict.report()}\n\nsuite output (tail):\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}"
