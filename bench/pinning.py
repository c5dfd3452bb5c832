"""Command prefixes that put a process on one core: the server on 0, the generator on 1."""

from __future__ import annotations

SERVER_CORE, GENERATOR_CORE = "0", "1"


def on_core(core: str) -> list[str]:
    return ["taskset", "-c", core]
