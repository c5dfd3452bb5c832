"""A sandbox for the local packs: a root, a prefix sibling and an outside directory holding canaries.

Every test checks afterwards that nothing outside the root changed and no canary text came back.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp import StdioServerParameters
from mcp_types import ElicitResult
from tests.conftest import stdio_params


@dataclass
class Sandbox:
    base: Path

    @property
    def root(self) -> Path:
        return self.base / "root"

    @property
    def sibling(self) -> Path:
        return self.base / "root_x"  # shares the root's prefix: "/…/root" must not admit "/…/root_x"

    @property
    def outside(self) -> Path:
        return self.base / "outside"

    @property
    def marker(self) -> Path:
        return self.base / "MARKER"

    def build(self) -> Sandbox:
        self.secret = f"CANARY-{uuid.uuid4().hex}"
        for directory in (self.root, self.sibling, self.outside):
            directory.mkdir(parents=True)
        (self.sibling / "secret.txt").write_text(self.secret)
        (self.outside / "secret.txt").write_text(self.secret)
        (self.root / "hello.txt").write_text("hello\n")
        self.before = self.outside_state()
        return self

    def outside_state(self) -> dict[str, tuple[bytes | None, int]]:
        """Every entry outside the root: its bytes (files) and modification time."""
        state: dict[str, tuple[bytes | None, int]] = {}
        for path in sorted(self.base.rglob("*")):
            if path == self.root or self.root in path.parents:
                continue
            info = path.lstat()
            content = path.read_bytes() if path.is_file() and not path.is_symlink() else None
            state[str(path.relative_to(self.base))] = (content, info.st_mtime_ns)
        return state

    def assert_untouched(self, *texts: str) -> None:
        assert not self.marker.exists() and not (self.root / "MARKER").exists(), "an injected command ran"
        assert self.outside_state() == self.before, "something outside the root changed"
        for text in texts:
            assert self.secret not in text, "a canary outside the root was read"

    def params(self, packs: str = "core,filesystem", **env: str) -> StdioServerParameters:
        roots = json.dumps([str(self.root)])
        settings = {"MCPCLOUD_PACK__FILESYSTEM__ROOTS": roots, "MCPCLOUD_PACK__SHELL__ROOTS": roots}
        return stdio_params("--packs", packs, **{k: v for k, v in settings.items() if _enabled(k, packs)}, **env)


def _enabled(variable: str, packs: str) -> bool:
    return variable.split("__")[1].lower() in packs.split(",")


def text_of(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


class Approver:
    """An elicitation callback that answers every approval question the same way and keeps the questions."""

    def __init__(self, action: str = "accept", approve: bool = True) -> None:
        self.action = action
        self.approve = approve
        self.asked: list[str] = []

    async def __call__(self, _context: Any, params: Any) -> ElicitResult:
        self.asked.append(params.message)
        content = {"approve": self.approve} if self.action == "accept" else None
        return ElicitResult(action=self.action, content=content)


def no_approval(**env: str) -> dict[str, str]:
    """Environment that lets every tool run without asking (for tests about something else)."""
    return {"MCPCLOUD_APPROVAL__DEFAULT": "never", **env}


def _flip(place: Path, target: Path, stop: threading.Event) -> None:
    real = place.with_name(place.name + ".real")
    while not stop.is_set():
        os.rename(place, real)
        os.symlink(target, place)
        os.unlink(place)
        os.rename(real, place)


@contextmanager
def flipping(place: Path, target: Path) -> Iterator[None]:
    """While inside: `place` keeps turning from a real directory into a symlink to `target` and back."""
    stop = threading.Event()
    flipper = threading.Thread(target=_flip, args=(place, target, stop))
    flipper.start()
    try:
        yield
    finally:
        stop.set()
        flipper.join()


def pid_alive(pid: int) -> bool:
    """Running (a killed process nobody has reaped yet, a zombie, is not: it runs nothing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"
