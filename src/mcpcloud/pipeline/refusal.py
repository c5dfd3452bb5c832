"""A policy's "no": one value that becomes a JSON-RPC error (pipeline) or an HTTP response (gate)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from mcp.shared.exceptions import MCPError

FORBIDDEN = -32003
"""JSON-RPC error code for a call the principal may not make (HTTP 403 on the gate)."""
RATE_LIMITED = -32029
"""JSON-RPC error code for a call over the rate or concurrency limit (HTTP 429 on the gate)."""
INVALID_PARAMS = -32602

Outcome = Literal["denied", "rate_limited", "invalid", "unauthenticated"]


@dataclass(frozen=True)
class Refusal:
    outcome: Outcome
    status: int
    code: int
    message: str
    retry_after: float | None = None
    missing_scope: str | None = None

    @property
    def retry_after_header(self) -> str | None:
        return None if self.retry_after is None else str(max(1, math.ceil(self.retry_after)))

    def data(self) -> dict[str, object] | None:
        data: dict[str, object] = {}
        if self.retry_after is not None:
            data["retryAfterSeconds"] = max(1, math.ceil(self.retry_after))
        if self.missing_scope is not None:
            data["requiredScope"] = self.missing_scope
        return data or None

    def error(self) -> RefusedError:
        return RefusedError(self)


class RefusedError(MCPError):
    """Raised by a pipeline stage; the SDK turns it into the JSON-RPC error the client sees."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.code, refusal.message, refusal.data())
        self.refusal = refusal
