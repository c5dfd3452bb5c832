"""The official conformance suite through the round-robin proxy: every scored scenario, both requirement sets."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conformance_suite import REQUIREMENT_SETS, Suite, SuiteError, expected_failures, install, judge
from tests.scale.conftest import Cluster

pytestmark = pytest.mark.conformance


@pytest.fixture(scope="module")
def suite() -> Suite:
    try:
        return install()
    except SuiteError as exc:
        pytest.fail(f"cannot install the conformance suite: {exc}")


@pytest.mark.parametrize("requirements", REQUIREMENT_SETS)
def test_every_scored_scenario_passes_through_two_replicas(
    suite: Suite, cluster: Cluster, requirements: str, tmp_path: Path
) -> None:
    scored = suite.scored_server_scenarios(requirements)
    run = suite.run(cluster.url, requirements, tmp_path / "results")
    verdict = judge(run, scored, expected_failures(requirements))
    print(verdict.report())
    assert verdict.ok, f"{verdict.report()}\n\nsuite output (tail):\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}"
