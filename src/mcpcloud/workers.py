"""`mcpcloud serve --workers N`: several processes on one port, and metrics that stay truthful across them.

uvicorn's supervisor binds the socket once and spawns N workers; each worker builds its own
server from the same settings (passed down in the environment) and keeps its Prometheus values
in files under `PROMETHEUS_MULTIPROC_DIR`, which `/metrics` of any worker sums.

Truthful means:
- the directory exists and holds nothing of processes that are gone: the supervisor creates it
  when missing (or refuses, naming the path, when it cannot) and clears it before any worker starts;
- readiness is set by every worker as soon as it starts and every few seconds after (`upkeep`),
  not only when that worker happens to answer a scrape (livemin would read 0 until then);
- a worker that was killed leaves no live gauge behind (`in_flight` stuck at its last value):
  each worker's upkeep removes the live-gauge files of processes that no longer exist.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio

from mcpcloud.errors import ConfigError

logger = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UPKEEP_SECONDS = 2.0
_LIVE_FILE = re.compile(r"^gauge_live\w*_(\d+)\.db$")


def prepare_metrics_directory(workers: int) -> Path | None:
    """Make `PROMETHEUS_MULTIPROC_DIR` usable before anything imports prometheus-client.

    With several workers it is created when unset or missing and emptied (no worker runs yet, so
    everything there is from a previous run); one process only gets a missing directory created.
    Must run before `mcpcloud.observability.metrics` is imported, which opens files there.
    """
    given = os.environ.get(MULTIPROC_ENV)
    if not given and workers == 1:
        return None
    if not given:
        directory = Path(tempfile.mkdtemp(prefix="mcpcloud-metrics-"))
    else:
        directory = Path(given)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"{MULTIPROC_ENV}={given}: cannot create the metrics directory ({exc.strerror or exc}); "
                "point it at a writable directory (e.g. an emptyDir volume) or unset it"
            ) from None
        if not os.access(directory, os.W_OK | os.X_OK):
            raise ConfigError(f"{MULTIPROC_ENV}={given}: the metrics directory is not writable by this user")
    if workers > 1:
        for stale in directory.glob("*.db"):
            stale.unlink(missing_ok=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    return directory


def sweep_dead_processes(directory: Path) -> list[int]:
    """Drop the live gauges of processes that no longer exist; the pids swept."""
    from prometheus_client import multiprocess

    swept = []
    for path in directory.glob("gauge_live*_*.db"):
        match = _LIVE_FILE.match(path.name)
        if match is None:
            continue
        pid = int(match.group(1))
        if pid not in swept and not _alive(pid):
            multiprocess.mark_process_dead(pid, str(directory))
            swept.append(pid)
    return swept


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@asynccontextmanager
async def upkeep(health: object) -> AsyncIterator[None]:
    """In multiprocess mode, publish this process's readiness and sweep dead processes, until closed."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        yield
        return
    from mcpcloud.observability.metrics import record_readiness

    async def loop() -> None:
        while True:
            try:
                report = await health.report()  # type: ignore[attr-defined]
                record_readiness(report.ready, {name: r.ready for name, r in report.checks.items()})
                sweep_dead_processes(Path(directory))
            except Exception:
                logger.exception("metrics upkeep failed")
            await anyio.sleep(UPKEEP_SECONDS)

    async with anyio.create_task_group() as tg:
        tg.start_soon(loop)
        try:
            yield
        finally:
            tg.cancel_scope.cancel()


def worker_app():  # type: ignore[no-untyped-def]
    """uvicorn's app factory in each worker: the server built from the settings the supervisor passed down."""
    from mcpcloud.config import load_settings
    from mcpcloud.http import Drain, build_app
    from mcpcloud.observability.logging import configure_logging
    from mcpcloud.observability.tracing import configure_tracing
    from mcpcloud.server import build

    settings = load_settings()
    configure_logging(settings.log)
    configure_tracing(settings.observability.tracing)
    server = build(settings)
    return build_app(server, Drain(server.health, settings.http.shutdown_grace_seconds))


def serve_workers(settings: object, overrides: dict[str, str], workers: int) -> None:
    """Run `workers` processes on the configured port under uvicorn's supervisor (restarts dead workers)."""
    import uvicorn

    from mcpcloud.clients import banner

    # Build once here so every problem in the settings shows once, not in each worker. Without the
    # multiprocess variable: this supervisor serves nothing, and its gauges (readiness 0) must not
    # land in the shared directory, where "livemin" would read them as a live process not ready.
    directory = os.environ.pop(MULTIPROC_ENV)
    try:
        from mcpcloud.server import build  # imports prometheus-client: only now, without the variable

        build(settings)  # type: ignore[arg-type]
    finally:
        os.environ[MULTIPROC_ENV] = directory
    print(banner(settings.mcp_url), file=sys.stderr)  # type: ignore[attr-defined]
    os.environ.update(overrides)  # the workers rebuild the settings from the environment
    logger.info("starting %d workers; metrics directory %s", workers, os.environ.get(MULTIPROC_ENV))
    http = settings.http  # type: ignore[attr-defined]
    uvicorn.run(
        "mcpcloud.workers:worker_app", factory=True, workers=workers,
        host=settings.host, port=settings.port,  # type: ignore[attr-defined]
        log_config=None, access_log=False, lifespan="on", server_header=False,
        timeout_graceful_shutdown=max(1, int(http.shutdown_grace_seconds)),
        timeout_worker_healthcheck=30,  # a worker imports the SDK and packs first; on a busy node that takes seconds
    )  # fmt: skip
