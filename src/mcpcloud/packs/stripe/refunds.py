"""Refunds that are safe to repeat.

The currency check is made before the request (a charge's currency never changes). The amount
checks are Stripe's own (`amount_too_large`, `charge_already_refunded`), made when the refund
is created, so a replayed call (same idempotency key) still gets its first refund back instead
of being refused because that first refund already used up the amount; the refusal is
reworded with the payment's figures.
"""

from __future__ import annotations

from typing import Any

import stripe
from mcp.server.mcpserver.exceptions import ToolError

from mcpcloud.packs.stripe import money
from mcpcloud.packs.stripe.gateway import as_dict, call, describe


async def charge_of(v1: Any, payment_intent: str | None, charge: str | None) -> dict[str, Any]:
    """The charge a refund applies to: the one given, or the payment intent's latest."""
    if payment_intent is not None:
        intent = as_dict(await call(v1.payment_intents.retrieve_async(payment_intent)))
        charge = intent.get("latest_charge")
        if not charge:
            raise ToolError(f"payment {payment_intent} has no charge to refund (status: {intent.get('status')})")
    return as_dict(await call(v1.charges.retrieve_async(charge)))


async def create(
    v1: Any, params: dict[str, Any], options: dict[str, str], paid: dict[str, Any], what: str
) -> dict[str, Any]:
    try:
        return as_dict(await v1.refunds.create_async(params, options))
    except stripe.StripeError as exc:
        raise ToolError(_refusal(exc, params.get("amount"), paid, what)) from None


def _refusal(exc: stripe.StripeError, amount: int | None, paid: dict[str, Any], what: str) -> str:
    currency, code = paid["currency"], getattr(exc, "code", None)
    left = paid["amount"] - paid.get("amount_refunded", 0)
    if code == "charge_already_refunded":
        return f"{what} is already fully refunded ({money.display(paid['amount'], currency)})"
    if code == "amount_too_large" and amount is not None:
        return (
            f"amount {amount} ({money.display(amount, currency)}) is more than what is left to refund on {what}: "
            f"{left} ({money.display(left, currency)})"
        )
    return describe(exc)
