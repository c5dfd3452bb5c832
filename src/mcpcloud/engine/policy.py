"""The one interface every call policy has.

A policy may refuse a call before it runs (`admit`), hold something while it runs and give it
back after (`release`: a concurrency slot), and wrap the run itself (`around`: a timeout, the
result cache). Each method defaults to "nothing to do", and `Engine` calls only the methods a
policy overrides, so a policy costs nothing where it has no say.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mcpcloud.core.calls import Call
from mcpcloud.core.outcomes import Refusal

Proceed = Callable[[], Awaitable[Any]]
"""Runs the rest of the call (the next wrapper, finally the handler) and returns its result."""


class Policy:
    name: str = "policy"

    async def admit(self, call: Call) -> Refusal | None:
        """None to let the call go on, or the refusal the caller gets. Runs once per call."""
        return None

    def release(self, call: Call) -> None:
        """Called once after an admitted call finished (or a later policy refused it)."""

    async def around(self, call: Call, proceed: Proceed) -> Any:
        """Run the call (`await proceed()`), possibly changing how or whether."""
        return await proceed()


def overrides(policy: Policy, method: str) -> bool:
    return getattr(type(policy), method) is not getattr(Policy, method)
