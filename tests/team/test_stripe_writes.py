"""Stripe writes: only when enabled, destructive, checked in minor units, and never twice for one call."""

from __future__ import annotations

from typing import Any

from stripe_wire import StripeWire
from team_helpers import pack_client, refusal

from mcpcloud.config import load_settings
from mcpcloud.server import build


def writable(wire: StripeWire) -> dict[str, Any]:
    return {"stripe": {"api_key": "sk_test_wire", "api_base": wire.base_url, "allow_writes": True}}


def _intent(wire: StripeWire) -> dict[str, Any]:
    return next(iter(wire.objects["payment_intents"].values()))


async def test_a_replayed_refund_returns_the_first_one(stripe_api: StripeWire) -> None:
    intent = _intent(stripe_api)
    charge = stripe_api.objects["charges"][intent["latest_charge"]]
    args = {"payment_intent": intent["id"], "amount": 1500, "currency": "eur", "reason": "requested_by_customer"}
    async with pack_client("stripe", writable(stripe_api)) as client:
        first = (await client.call_tool("stripe_create_refund", args)).structured_content
        again = (await client.call_tool("stripe_create_refund", args)).structured_content
    assert first == again and first["amount_display"] == "15.00 EUR" and first["status"] == "succeeded"
    assert len(stripe_api.objects["refunds"]) == 1 and charge["amount_refunded"] == 1500
    posts = stripe_api.posts("/v1/refunds")
    assert len(posts) == 2 and posts[0]["idempotency_key"] == posts[1]["idempotency_key"]
    assert posts[0]["idempotency_key"].startswith("mcpcloud-")
    assert posts[0]["content_type"] == "application/x-www-form-urlencoded"
    assert posts[0]["params"] == {"payment_intent": intent["id"], "amount": "1500", "reason": "requested_by_customer"}

    async with pack_client("stripe", writable(stripe_api)) as client:  # a new server process would derive the same key
        assert (await client.call_tool("stripe_create_refund", args)).structured_content == first
        second = (
            await client.call_tool("stripe_create_refund", args | {"repeat_id": "second-refund"})
        ).structured_content
    assert second["id"] != first["id"] and charge["amount_refunded"] == 3000  # a deliberate repeat is a new request

    rest = {"payment_intent": intent["id"]}  # the rest of the payment: the first call uses up what is left
    async with pack_client("stripe", writable(stripe_api)) as client:
        last = (await client.call_tool("stripe_create_refund", rest)).structured_content
        replayed = await client.call_tool("stripe_create_refund", rest)
    assert not replayed.is_error and replayed.structured_content == last and last["amount_display"] == "20.00 EUR"
    assert charge["refunded"] is True and len(stripe_api.objects["refunds"]) == 3


async def test_amounts_and_currencies_are_checked_before_money_moves(stripe_api: StripeWire) -> None:
    intent = _intent(stripe_api)
    jpy = next(c for c in stripe_api.objects["charges"].values() if c["currency"] == "jpy")
    async with pack_client("stripe", writable(stripe_api)) as client:

        async def refused(**args: Any) -> str:
            return refusal(await client.call_tool("stripe_create_refund", args))

        assert "currency 'USD' does not match payment " in await refused(
            payment_intent=intent["id"], amount=100, currency="usd"
        )
        assert "amounts are in minor units of EUR (2 decimals)" in await refused(
            payment_intent=intent["id"], amount=1, currency="usd"
        )
        assert "amount 6000 (60.00 EUR) is more than what is left to refund on payment" in await refused(
            payment_intent=intent["id"], amount=6000
        )
        assert "give exactly one of payment_intent (pi_…) or charge (ch_…)" in await refused(amount=5)
        assert "amount 1201 (1201 JPY) is more than what is left to refund on payment " + jpy[
            "id"
        ] + ": 1200 (1200 JPY)" in await refused(charge=jpy["id"], amount=1201)
        assert "No such charge: 'ch_missing'; parameter: id; code: resource_missing" in await refused(
            charge="ch_missing"
        )
        full = (await client.call_tool("stripe_create_refund", {"charge": jpy["id"]})).structured_content
        assert full["amount_display"] == "1200 JPY"
        assert f"payment {jpy['id']} is already fully refunded (1200 JPY)" in await refused(charge=jpy["id"], amount=1)
    assert len(stripe_api.objects["refunds"]) == 1  # only the one full JPY refund went through


async def test_payment_links_and_write_policies(stripe_api: StripeWire) -> None:
    server = build(load_settings(packs="stripe", pack=writable(stripe_api)))
    for tool in ("stripe_create_refund", "stripe_create_payment_link"):
        policy = server.registry.get(tool)
        assert policy is not None and policy.scopes == ("stripe:write",) and policy.annotations.destructive_hint
    price = next(p for p in stripe_api.objects["prices"].values() if p["active"])
    archived = next(p for p in stripe_api.objects["prices"].values() if not p["active"])
    async with pack_client("stripe", writable(stripe_api)) as client:
        link = (
            await client.call_tool("stripe_create_payment_link", {"price": price["id"], "quantity": 2})
        ).structured_content
        assert link["url"].startswith("https://buy.stripe.com/") and link["active"] is True
        same = (
            await client.call_tool("stripe_create_payment_link", {"price": price["id"], "quantity": 2})
        ).structured_content
        assert same == link and len(stripe_api.objects["payment_links"]) == 1
        assert stripe_api.posts("/v1/payment_links")[0]["params"] == {
            "line_items": [{"price": price["id"], "quantity": "2"}]
        }
        message = refusal(await client.call_tool("stripe_create_payment_link", {"price": archived["id"]}))
        assert f"No such price: '{archived['id']}'; parameter: line_items[0][price]; code: resource_missing" in message
