"""CPU accounting for a measured window (Linux /proc), to tell who was the limit.

Requests/s alone cannot say whether the server, the generator or a neighbour on the same
core was the bottleneck. These samples can: a saturated server shows ~1.0 CPU-seconds per
second; a generator near 1.0 is itself the limit; a server that spent much of the window
runnable but waiting (run-queue wait) was sharing its core with something else.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, all its threads."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name may contain spaces; fields after the closing parenthesis are fixed.
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def run_queue_wait_seconds(pid: int) -> float:
    """Time the process's main thread (the event loop) spent runnable but waiting for a CPU."""
    with open(f"/proc/{pid}/schedstat") as schedstat:
        return int(schedstat.read().split()[1]) / 1e9


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def core_times() -> dict[str, tuple[int, int]]:
    """Per core: (busy ticks, total ticks) since boot."""
    cores = {}
    with open("/proc/stat") as stat:
        for line in stat:
            name, *values = line.split()
            if not name.startswith("cpu") or name == "cpu":
                continue
            ticks = [int(v) for v in values[:8]]
            idle = ticks[3] + ticks[4]  # idle + iowait
            cores[name] = (sum(ticks) - idle, sum(ticks))
    return cores


@dataclass
class CpuWindow:
    server_pid: int | None
    _server: float = 0.0
    _server_wait: float = 0.0
    _own: float = 0.0
    _cores: dict[str, tuple[int, int]] | None = None

    def start(self) -> None:
        self._server = process_cpu_seconds(self.server_pid) if self.server_pid else 0.0
        self._server_wait = run_queue_wait_seconds(self.server_pid) if self.server_pid else 0.0
        self._own = own_cpu_seconds()
        self._cores = core_times()

    def stop(self, seconds: float, requests: int) -> dict[str, object]:
        report: dict[str, object] = {"generator_cpu_share": round((own_cpu_seconds() - self._own) / seconds, 3)}
        if self.server_pid:
            server = process_cpu_seconds(self.server_pid) - self._server
            report["server_cpu_share"] = round(server / seconds, 3)
            report["server_cpu_us_per_request"] = round(server / requests * 1e6, 1) if requests else None
            # Runnable but not running: the share of the window the server lost to others on its core.
            waited = run_queue_wait_seconds(self.server_pid) - self._server_wait
            report["server_run_queue_wait_share"] = round(waited / seconds, 3)
        assert self._cores is not None
        busy = {}
        for core, (busy_end, total_end) in core_times().items():
            busy_start, total_start = self._cores[core]
            busy[core] = round((busy_end - busy_start) / max(1, total_end - total_start), 3)
        report["core_busy_share"] = busy
        return report
