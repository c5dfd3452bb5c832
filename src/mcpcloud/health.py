"""Liveness and readiness: what /healthz, /readyz and the `health_check` tool report."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio

from mcpcloud import __version__

ReadinessCheck = Callable[[], Awaitable[None | str]]
"""Returns when the pack can serve (optionally a detail to report); raises (with a message saying what is wrong)
when it cannot."""


@dataclass(frozen=True)
class CheckResult:
    ready: bool
    detail: str = "ok"
    required: bool = True
    """False for a pack under the `degraded` policy: its failure is reported but keeps the replica in service."""


@dataclass(frozen=True)
class ReadinessReport:
    ready: bool
    checks: dict[str, CheckResult]
    draining: bool = False

    @property
    def degraded(self) -> list[str]:
        """Checks that fail without taking the replica out of service."""
        return [name for name, r in self.checks.items() if not r.ready and not r.required]

    def as_json(self) -> dict[str, object]:
        status = (
            "draining"
            if self.draining
            else ("not ready" if not self.ready else "degraded" if self.degraded else "ready")
        )
        body: dict[str, object] = {
            "status": status,
            "checks": {
                name: {"ready": r.ready, "detail": r.detail, **({} if r.required else {"policy": "degraded"})}
                for name, r in self.checks.items()
            },
        }
        if self.degraded:
            body["degraded"] = self.degraded
        return body


@dataclass
class Health:
    """Readiness checks of the enabled packs, run with a timeout and cached for a moment.

    The cache keeps a burst of probes (several kubelets, a load balancer, the tool) from
    turning into a burst of database pings.
    """

    checks: dict[str, ReadinessCheck] = field(default_factory=dict)
    timeout_seconds: float = 1.0
    """Per check; below the readiness probe's timeout (2 s in deploy/k8s), so a slow check reports, not times out."""
    degraded_ok: frozenset[str] = frozenset()
    """Packs whose failure keeps the replica ready (policy `degraded`)."""
    cache_seconds: float = 1.0
    started_at: float = field(default_factory=time.monotonic)
    version: str = __version__
    started: bool = False
    draining: bool = False
    _cached: tuple[float, dict[str, CheckResult]] | None = None

    @property
    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started_at

    async def report(self) -> ReadinessReport:
        results = await self._check_all()
        if not self.started:
            results = {"startup": CheckResult(False, "server is still starting"), **results}
        if self.draining:
            results = {"shutdown": CheckResult(False, "server is shutting down"), **results}
        ready = all(r.ready for r in results.values() if r.required)
        return ReadinessReport(ready=ready, checks=results, draining=self.draining)

    async def _check_all(self) -> dict[str, CheckResult]:
        now = time.monotonic()
        if self._cached is not None and now - self._cached[0] < self.cache_seconds:
            return self._cached[1]
        results: dict[str, CheckResult] = {}

        async def run(name: str, check: ReadinessCheck) -> None:
            result = await self._run_one(check)
            results[name] = CheckResult(result.ready, result.detail, required=name not in self.degraded_ok)

        async with anyio.create_task_group() as tg:
            for name, check in self.checks.items():
                tg.start_soon(run, name, check)
        ordered = {name: results[name] for name in self.checks}
        self._cached = (time.monotonic(), ordered)
        return ordered

    async def _run_one(self, check: ReadinessCheck) -> CheckResult:
        try:
            with anyio.fail_after(self.timeout_seconds):
                detail = await check()
        except TimeoutError:
            return CheckResult(False, f"check timed out after {self.timeout_seconds:g}s")
        except Exception as exc:  # a failing dependency is a report, not a crash
            return CheckResult(False, f"{type(exc).__name__}: {exc}")
        return CheckResult(True, detail if isinstance(detail, str) and detail else "ok")
