"""`[pack.shell]`: roots for cwd and path arguments, the program allowlist and its limits."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field, field_validator

from mcpcloud.packs.roots import RootList
from mcpcloud.packs.shell.rules import READ_ONLY_DEFAULT

DEFAULT_ALLOW = ("git", "ls", "cat", "head", "tail", "wc", "grep", "rg", "find", "diff", "stat", "file", "du", "sort")
DEFAULT_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "USER", "LOGNAME", "TERM")


class ProgramRule(BaseModel):
    """Rules for a program mcpcloud has none for: the options to refuse, and whether it only reads."""

    model_config = {"extra": "forbid"}
    refuse: list[str] = Field(default_factory=list, description="Options refused (`--long`, `-x`).")
    read_only: bool = Field(False, description="True: calls change nothing, so they need no approval.")


class Settings(BaseModel):
    model_config = {"extra": "forbid"}

    roots: RootList = Field(description="Directories cwd and path arguments must be inside.")
    allow: list[str] | None = Field(
        None,
        description="Programs run_command may start, by name, resolved on PATH at startup. "
        f"Unset: those of {', '.join(DEFAULT_ALLOW)} that are installed.",
    )
    read_only: list[str] = Field(
        default_factory=lambda: list(READ_ONLY_DEFAULT),
        description="Programs whose calls change nothing (no approval asked under approve = destructive).",
    )
    programs: dict[str, ProgramRule] = Field(
        default_factory=dict, description="Argument rules for programs mcpcloud has no rules for."
    )
    env: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ENV), description="Environment variables passed through; others dropped."
    )
    path: str | None = Field(None, description="Where programs are looked up (default: this process's PATH).")
    allow_on_http: bool = Field(False, description="Serve run_command over HTTP too (a shell on a shared service).")
    default_timeout_seconds: int = Field(
        25, gt=0, description="Timeout when the call gives none (under [limits]' 30 s default, so it reports first)."
    )
    max_timeout_seconds: int = Field(300, gt=0, description="Largest timeout a call may ask for.")
    max_output_bytes: int = Field(64 * 1024, gt=0, description="Kept of stdout and of stderr each; the rest is cut.")

    @field_validator("programs", mode="before")
    @classmethod
    def _json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("allow", "read_only", "env", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value
