"""`client-config --packs ... --root DIR`: a local entry serving the filesystem and shell packs on a directory.

The packs go on the command line (`serve --packs ...`); the roots travel in the environment
(`MCPCLOUD_PACK__<PACK>__ROOTS`, a JSON list), as absolute paths because the client spawns the
server from a directory of its own choosing.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

ROOTED_PACKS = ("filesystem", "shell")


def local_pack_options(packs: str | None, roots: tuple[str, ...]) -> tuple[tuple[str, ...], dict[str, str]]:
    """(extra `serve` arguments, environment) for the entry; nothing when neither option is given."""
    names = [name.strip() for name in (packs or "").split(",") if name.strip()]
    rooted = [name for name in names if name in ROOTED_PACKS]
    if rooted and not roots:
        raise click.UsageError(f"--packs {','.join(rooted)} needs --root DIR: the directory the tools may touch")
    if roots and not rooted:
        raise click.UsageError(f"--root is for the {' and '.join(ROOTED_PACKS)} packs; add them to --packs")
    resolved = []
    for root in roots:
        path = Path(root).expanduser().resolve()
        if not path.is_dir():
            raise click.BadParameter(f"{root!r} is not an existing directory", param_hint="--root")
        resolved.append(str(path))
    env = {f"MCPCLOUD_PACK__{name.upper()}__ROOTS": json.dumps(resolved) for name in rooted}
    return (("--packs", ",".join(names)) if names else ()), env
