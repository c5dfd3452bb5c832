"""The `conformance` pack: fixtures the official MCP conformance suite expects. Off by default."""

from __future__ import annotations

from pydantic import BaseModel

from mcpcloud.packs import PackContext

name = "conformance"
description = "Fixture tools, resources and prompts for the official MCP conformance suite (testing only)."


class Settings(BaseModel):
    model_config = {"extra": "forbid"}


def register(ctx: PackContext) -> None:
    """Filled in with the suite's fixtures."""
