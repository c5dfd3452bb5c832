"""`[pack.filesystem]`: the roots, whether writes exist at all, and the size caps."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

from mcpcloud.packs.roots import parse_roots, resolved_root

MIB = 1024 * 1024


class Settings(BaseModel):
    model_config = {"extra": "forbid"}

    roots: list[str] = Field(
        min_length=1,
        description="Directories the tools may touch (everything below them, nothing else). "
        "Environment: MCPCLOUD_PACK__FILESYSTEM__ROOTS='[\"/home/me/project\"]'.",
    )
    allow_writes: bool = Field(
        False, description="Offer write_file, edit_file, create_directory and move_file (scope filesystem:write)."
    )
    max_read_bytes: int = Field(10 * MIB, gt=0, description="Largest file a read returns whole.")
    max_write_bytes: int = Field(10 * MIB, gt=0, description="Largest content write_file or edit_file writes.")
    max_entries: int = Field(10_000, gt=0, description="Most entries directory_tree and search_files visit.")

    @field_validator("roots", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return parse_roots(value)

    @field_validator("roots")
    @classmethod
    def _exist(cls, value: list[str]) -> list[str]:
        return [resolved_root(path) for path in value]
