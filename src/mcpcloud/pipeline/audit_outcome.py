"""Lets an inner stage tell the audit stage what happened when the result alone does not say."""

from __future__ import annotations

from contextvars import ContextVar

_noted: ContextVar[list[str] | None] = ContextVar("mcpcloud_audit_outcome", default=None)


def open_outcome() -> list[str]:
    slot: list[str] = []
    _noted.set(slot)
    return slot


def note_outcome(outcome: str) -> None:
    slot = _noted.get()
    if slot is not None:
        slot.append(outcome)
