"""`[pack.filesystem]`: the roots, whether writes exist at all, and the size caps."""

from __future__ import annotations

from pydantic import BaseModel, Field

from mcpcloud.packs.roots import RootList

MIB = 1024 * 1024


class Settings(BaseModel):
    model_config = {"extra": "forbid"}

    roots: RootList = Field(
        description="Directories the tools may touch (everything below them, nothing else). "
        "Environment: MCPCLOUD_PACK__FILESYSTEM__ROOTS='[\"/home/me/project\"]'.",
    )
    allow_writes: bool = Field(
        False, description="Offer write_file, edit_file, create_directory and move_file (scope filesystem:write)."
    )
    max_read_bytes: int = Field(10 * MIB, gt=0, description="Largest file a read returns whole.")
    max_write_bytes: int = Field(10 * MIB, gt=0, description="Largest content write_file or edit_file writes.")
    max_entries: int = Field(10_000, gt=0, description="Most entries directory_tree and search_files visit.")
