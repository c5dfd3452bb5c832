"""CPU per access-log line and per audit record, as an HTTP server writes them (JSON; stderr / a file).

    python bench/log_lines.py 20000                 # CPU µs per line (time.process_time)
    python bench/log_lines.py 20000 access          # only the access log (or: audit)
    # load-independent: instructions per line = (I(3000) - I(1000)) / 2000
    for n in 1000 3000; do PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$n \\
      .venv/bin/python bench/log_lines.py $n access 2>&1 >/dev/null | grep Collected; done

Logs go to stderr (send it to /dev/null); the audit file to a temporary directory. The figures
print on stdout.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mcpcloud.config import AuditSettings, LogSettings
from mcpcloud.core.calls import Call
from mcpcloud.core.principal import Principal
from mcpcloud.observability.audit import AuditLog
from mcpcloud.observability.http import HttpObservability
from mcpcloud.observability.logging import REQUEST_FIELDS, configure_logging

WARMUP = 500


def cpu_microseconds(action: Callable[[], None], times: int) -> float:
    for _ in range(WARMUP):
        action()
    started = time.process_time()
    for _ in range(times):
        action()
    return (time.process_time() - started) / times * 1e6


def main() -> None:
    times = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    which = sys.argv[2] if len(sys.argv) > 2 else "both"
    configure_logging(LogSettings(format="json", level="INFO"))
    REQUEST_FIELDS.set({"request_id": "0123456789abcdef"})
    figures = {}
    if which in ("both", "access"):
        observability = HttpObservability(None, mcp_path="/mcp")  # type: ignore[arg-type]
        scope = {"type": "http", "path": "/mcp", "method": "POST", "client": ("127.0.0.1", 50000)}
        figures["access log µs/line"] = cpu_microseconds(lambda: observability._log(scope, 200, 0.00123), times)
    if which in ("both", "audit"):
        audit = AuditLog(AuditSettings(sink="file", file=str(Path(tempfile.mkdtemp()) / "audit.log")))
        principal = Principal(id="key:bench", kind="api_key", scopes=frozenset({"*"}))
        call = Call("tools/call", "tool", "echo", {"message": "hello"}, principal, "2026-07-28", request_id=7)
        figures["audit µs/record"] = cpu_microseconds(lambda: audit.record_call(call, "ok", duration_ms=0.4567), times)
    print({name: round(value, 1) for name, value in figures.items()})


if __name__ == "__main__":
    main()
