"""The production pipeline the targets measure: API-key auth, Redis rate limit, metrics, audit to a file.

`production_env(work)` creates an API key in a key file under `work`, and returns the
environment for `mcpcloud serve` plus the header every benchmark request must carry. The
rate limit is real (every tools/call spends from a Redis GCRA bucket, one Lua script call)
but high enough never to refuse; the Redis keys live under a prefix of their own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def _mcpcloud() -> str:
    beside = Path(sys.executable).with_name("mcpcloud")
    return str(beside) if beside.exists() else "mcpcloud"


def production_env(work: Path) -> tuple[dict[str, str], dict[str, str]]:
    work.mkdir(parents=True, exist_ok=True)
    keys = work / "keys.json"
    keys.unlink(missing_ok=True)
    env = {
        "MCPCLOUD_AUTH__MODES": "api_keys",
        "MCPCLOUD_AUTH__API_KEYS__STORE": "file",
        "MCPCLOUD_AUTH__API_KEYS__FILE": str(keys),
        "MCPCLOUD_LIMITS__BACKEND": "redis",
        "MCPCLOUD_LIMITS__RATE": "1000000/second",
        "MCPCLOUD_REDIS__URL": REDIS_URL,
        "MCPCLOUD_REDIS__KEY_PREFIX": f"mcpcloud-bench-{os.getpid()}:",
        "MCPCLOUD_AUDIT__ENABLED": "true",
        "MCPCLOUD_AUDIT__SINK": "file",
        "MCPCLOUD_AUDIT__FILE": str(work / "audit.log"),
        "MCPCLOUD_OBSERVABILITY__METRICS__ENABLED": "true",
    }
    created = subprocess.run(
        [_mcpcloud(), "keys", "create", "--name", "bench", "--scopes", "*"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )
    key = created.stdout.strip().splitlines()[0] if created.returncode == 0 and created.stdout.strip() else ""
    if not key.startswith("mcpk_"):
        raise RuntimeError(f"mcpcloud keys create failed: {created.stdout[-500:]} {created.stderr[-1000:]}")
    return env, {"Authorization": f"Bearer {key}"}
