"""The one exception shared-state backends raise when they cannot answer.

A leaf module (imports nothing of ours) so the state backends, the tool-call engine and the
HTTP front can all name it without import cycles. Whoever catches it answers the caller with
HTTP 503 + `Retry-After` and a JSON-RPC error naming `cause`; it is never a bare 500.
"""

from __future__ import annotations

from collections.abc import Callable


class StateUnavailable(Exception):
    """A shared-state backend (Redis) is down, slow or reset; the request may be retried.

    `what` names the feature that needed the state ("rate limit", "api keys", "sessions", …),
    `cause` is a short reason safe to show a caller (never a URL or a password), and
    `retry_after` is the number of seconds a client should wait before trying again.
    """

    def __init__(self, what: str, cause: str, retry_after: int = 5) -> None:
        super().__init__(f"{what} unavailable: shared state (Redis) {cause}")
        self.what = what
        self.cause = cause
        self.retry_after = retry_after


FaultObserver = Callable[[str, str], None]
"""Told `(feature, action)` for every fault: action `refused` (answered 503) or `failed_open`."""

_observers: list[FaultObserver] = []


def observe_faults(observer: FaultObserver) -> None:
    """Register a counter (the metrics layer, wired by the server): state must not import observability."""
    if observer not in _observers:
        _observers.append(observer)


def report_fault(feature: str, action: str) -> None:
    for observer in _observers:
        observer(feature, action)
