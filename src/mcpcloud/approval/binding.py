"""An approval question's binding: caller, tool, digest of the arguments, expiry, and a one-time nonce.

On 2026-07-28 the question travels as an `input_required` round: the binding goes out in the
`requestState` and comes back with the answer. (The SDK also seals that state and ties it to the
request; this check does not rely on it.) A binding is accepted once, for the same caller, tool
and arguments, before it expires; anything else is a replay and is refused.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any

from pydantic_core import to_jsonable_python


def arguments_digest(tool: str, arguments: dict[str, Any]) -> str:
    canonical = json.dumps(
        {"tool": tool, "arguments": to_jsonable_python(arguments)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Binding:
    caller: str
    tool: str
    digest: str
    expires: float
    nonce: str

    @classmethod
    def new(cls, caller: str, tool: str, digest: str, ttl: float) -> Binding:
        return cls(caller, tool, digest, time.time() + ttl, secrets.token_urlsafe(16))

    def encode(self) -> str:
        return json.dumps({"approval": asdict(self)}, separators=(",", ":"))

    @classmethod
    def decode(cls, state: str | None) -> Binding | None:
        try:
            fields = json.loads(state or "")["approval"]
            return cls(
                caller=str(fields["caller"]),
                tool=str(fields["tool"]),
                digest=str(fields["digest"]),
                expires=float(fields["expires"]),
                nonce=str(fields["nonce"]),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def fits(self, caller: str, tool: str, digest: str) -> bool:
        return (
            secrets.compare_digest(self.digest, digest)
            and self.caller == caller
            and self.tool == tool
            and time.time() < self.expires
        )


class SpentNonces:
    """Nonces already used, kept until their binding would have expired anyway (bounded)."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._spent: OrderedDict[str, float] = OrderedDict()

    def spend(self, binding: Binding) -> bool:
        """True the first time a binding's nonce is used, False on every later use."""
        now = time.time()
        while self._spent and (next(iter(self._spent.values())) < now or len(self._spent) >= self.limit):
            self._spent.popitem(last=False)
        if binding.nonce in self._spent:
            return False
        self._spent[binding.nonce] = binding.expires
        return True
