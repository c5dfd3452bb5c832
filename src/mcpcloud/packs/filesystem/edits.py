"""`edit_file`: exact text replacements, each required to match exactly once, shown as a unified diff."""

from __future__ import annotations

import difflib

from pydantic import BaseModel, Field

from mcpcloud.packs.roots import RefusedPathError


class EditOperation(BaseModel):
    oldText: str = Field(description="Exact text to replace; must occur exactly once in the file.")  # noqa: N815
    newText: str = Field(description="Text to put in its place.")  # noqa: N815


def apply_edits(text: str, edits: list[EditOperation], shown: str) -> str:
    if not edits:
        raise RefusedPathError("edits is empty: give at least one {oldText, newText} pair.")
    for number, edit in enumerate(edits, start=1):
        if not edit.oldText:
            raise RefusedPathError(f"Edit {number}: oldText is empty; give the exact text to replace.")
        found = text.count(edit.oldText)
        if found == 0:
            raise RefusedPathError(
                f"Edit {number}: oldText was not found in {shown} (after the edits before it). "
                "Copy the text exactly, including whitespace; read the file first if unsure."
            )
        if found > 1:
            raise RefusedPathError(
                f"Edit {number}: oldText occurs {found} times in {shown}; include more surrounding text so it "
                "matches exactly once."
            )
        text = text.replace(edit.oldText, edit.newText, 1)
    return text


MAX_DIFF_CHARS = 512 * 1024
"""Larger texts get a size summary instead of a diff: difflib's matching is quadratic at worst."""


def unified_diff(before: str, after: str, shown: str) -> str:
    if len(before) + len(after) > MAX_DIFF_CHARS:
        return (
            f"{shown}: {len(before)} characters before, {len(after)} after; "
            f"too large to show as a diff (over {MAX_DIFF_CHARS} characters together).\n"
        )
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), fromfile=shown, tofile=shown
    )
    body = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
    fence = "```"
    while fence in body:
        fence += "`"
    return f"{fence}diff\n{body}{fence}\n"
