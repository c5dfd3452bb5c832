"""Who is calling: `Identity` lives with `Principal` in the shared vocabulary (packs use it too)."""

from __future__ import annotations

from mcpcloud.core.principal import Identity

__all__ = ["Identity"]
