"""Tool-definition pinning: a remote tool is trusted as it was first seen, and not as it later claims to be.

The first time a remote tool is seen, a hash of its definition (name, title, description,
schemas, annotations) is recorded with the definition itself. A later listing whose
definition differs, or a new name whose definition is that of a pinned tool the remote no
longer lists (a rename), is withheld until someone approves it (`mcpcloud remotes approve`),
which shows the difference first. The record is a JSON file under the user's state dir,
written atomically so two processes never leave half a file.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp_types import Tool

PINNED_FIELDS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")


def definition(tool: Tool) -> dict[str, Any]:
    """The parts of a tool a person would be misled by if they changed: what is hashed and shown."""
    wire = tool.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {key: wire[key] for key in PINNED_FIELDS if key in wire}


def digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _without_name(body: dict[str, Any]) -> str:
    return digest({k: v for k, v in body.items() if k != "name"})


@dataclass(frozen=True)
class Withheld:
    """A remote tool held back until approved, and why."""

    name: str
    reason: str
    """e.g. `description, inputSchema changed since it was approved` or `renamed from 'old'`."""
    pinned: dict[str, Any] | None
    seen: dict[str, Any]

    def diff(self) -> str:
        before = json.dumps(self.pinned or {}, indent=2, sort_keys=True).splitlines()
        after = json.dumps(self.seen, indent=2, sort_keys=True).splitlines()
        label = (self.pinned or {}).get("name", self.name)
        return "\n".join(difflib.unified_diff(before, after, f"approved {label}", f"offered {self.name}", lineterm=""))


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [key for key in PINNED_FIELDS if before.get(key) != after.get(key)]


class PinStore:
    """The pins of every remote, in one JSON file: `{remote: {tool: {"sha256": ..., "definition": ...}}}`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, dict[str, dict[str, Any]]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise PinStoreError(
                f"pin file {str(self.path)!r} cannot be read ({exc}); move it away to start afresh, or set "
                "state_dir (MCPCLOUD_STATE_DIR) to a directory of your own"
            ) from None
        return data if isinstance(data, dict) else {}

    def pins(self, remote: str) -> dict[str, dict[str, Any]]:
        return self.load().get(remote, {})

    def save_remote(self, remote: str, pins: dict[str, dict[str, Any]]) -> None:
        data = self.load()
        data[remote] = pins
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".pins-", suffix=".json")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=2, sort_keys=True)
            os.replace(tmp, self.path)
        except OSError as exc:
            raise PinStoreError(
                f"cannot write pin file {str(self.path)!r} ({exc.strerror or exc}); set state_dir "
                "(MCPCLOUD_STATE_DIR) to a writable directory, e.g. a volume in a container"
            ) from None

    def review(self, remote: str, tools: list[Tool], save: bool = True) -> tuple[list[Tool], list[Withheld]]:
        """Split a listing into tools to offer and tools to withhold; pin what is seen for the first time.

        With `save=False` nothing is recorded (what `mcpcloud remotes check` shows).
        """
        pins = self.pins(remote)
        listed = {tool.name for tool in tools}
        # Pinned tools the remote no longer lists: a new name with one of their bodies is a rename.
        vanished = {_without_name(p["definition"]): name for name, p in pins.items() if name not in listed}
        offered: list[Tool] = []
        withheld: list[Withheld] = []
        fresh = False
        for tool in tools:
            body = definition(tool)
            pin = pins.get(tool.name)
            if pin is None:
                renamed_from = vanished.get(_without_name(body))
                if renamed_from is not None:
                    withheld.append(
                        Withheld(tool.name, f"renamed from {renamed_from!r}", pins[renamed_from]["definition"], body)
                    )
                    continue
                pins[tool.name] = {"sha256": digest(body), "definition": body}
                fresh = True
                offered.append(tool)
            elif pin["sha256"] == digest(body):
                offered.append(tool)
            else:
                fields = ", ".join(changed_fields(pin["definition"], body)) or "definition"
                withheld.append(Withheld(tool.name, f"{fields} changed since it was approved", pin["definition"], body))
        if fresh and save:
            self.save_remote(remote, pins)
        return offered, withheld

    def approve(self, remote: str, items: list[Withheld]) -> None:
        pins = self.pins(remote)
        for item in items:
            if item.pinned is not None and item.pinned.get("name") != item.name:
                pins.pop(item.pinned.get("name", ""), None)  # a rename replaces the old pin
            pins[item.name] = {"sha256": digest(item.seen), "definition": item.seen}
        self.save_remote(remote, pins)


class PinStoreError(Exception):
    """The pin file is unreadable; the message says which file and what to do."""


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "mcpcloud"


def state_dir_path(state_dir: str | None) -> Path:
    return Path(state_dir).expanduser() if state_dir else default_state_dir()


def pin_store(state_dir: str | None) -> PinStore:
    return PinStore(state_dir_path(state_dir) / "pins.json")
