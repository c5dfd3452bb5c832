"""Amounts in minor units, as Stripe counts them: 1234 is 12.34 EUR but 1234 JPY, and 1.234 KWD.

Every amount a tool returns carries a display form computed with the currency's own number of
decimals, so a model never has to guess, and every amount a tool takes is checked against the
currency of the object it applies to.
"""

from __future__ import annotations

from mcp.server.mcpserver.exceptions import ToolError

# https://docs.stripe.com/currencies#zero-decimal and #three-decimal
ZERO_DECIMAL = frozenset(
    ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]
)
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])


def decimals(currency: str) -> int:
    code = currency.lower()
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2


def display(amount: int | None, currency: str | None) -> str | None:
    if amount is None or not currency:
        return None
    places = decimals(currency)
    sign, value = ("-" if amount < 0 else ""), abs(amount)
    whole, fraction = divmod(value, 10**places) if places else (value, 0)
    return f"{sign}{whole}{'.' + str(fraction).zfill(places) if places else ''} {currency.upper()}"


def check_currency(given: str | None, expected: str, what: str) -> None:
    """A currency the caller named must be the one of the object the amount applies to."""
    if given is not None and given.lower() != expected.lower():
        raise ToolError(
            f"currency {given.upper()!r} does not match {what}'s currency {expected.upper()!r}; "
            f"amounts are in minor units of {expected.upper()} ({decimals(expected)} decimals)"
        )
