"""The official conformance suite through the round-robin proxy: every scored scenario, both requirement sets."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conformance_suite import REQUIREMENT_SETS, Suite, expected_failures, judge
from tests.scale.conftest import Cluster
from tests.test_conformance import suite  # noqa: F401 - the installed suite, as the one-replica test uses it

pytestmark = pytest.mark.conformance


@pytest.mark.parametrize("requirements", REQUIREMENT_SETS)
def test_every_scored_scenario_passes_through_two_replicas(
    suite: Suite,  # noqa: F811
    cluster: Cluster,
    requirements: str,
    tmp_path: Path,
) -> None:
    scored = suite.scored_server_scenarios(requirements)
    run = suite.run(cluster.url, requirements, tmp_path / "results")
    verdict = judge(run, scored, expected_failures(requirements))
    print(verdict.report())
    assert verdict.ok, f"{verdict.report()}\n\nsuite output (tail):\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}"
