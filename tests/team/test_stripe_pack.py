"""The stripe pack against a local server speaking Stripe's wire format, through the official SDK."""

from __future__ import annotations

from typing import Any

import pytest
from stripe_wire import StripeWire
from team_helpers import pack_client, refusal

from mcpcloud.config import load_settings
from mcpcloud.errors import ConfigError
from mcpcloud.server import build


def stripe_pack(wire: StripeWire, **extra: Any) -> dict[str, Any]:
    return {"stripe": {"api_key": "sk_test_wire", "api_base": wire.base_url, **extra}}


async def test_read_tools_page_and_show_minor_units(stripe_api: StripeWire) -> None:
    async with pack_client("stripe", stripe_pack(stripe_api)) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert "stripe_create_refund" not in names and "stripe_create_payment_link" not in names  # read-only default
        seen, cursor, pages = [], None, 0
        while True:
            page = (
                await client.call_tool("stripe_list_customers", {"cursor": cursor} if cursor else {})
            ).structured_content
            seen += [c["id"] for c in page["items"]]
            pages += 1
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert pages == 2 and len(seen) == len(set(seen)) == 26
        assert [r["params"] for r in stripe_api.requests if r["path"] == "/v1/customers"] == [{}, {}]
        ann = (await client.call_tool("stripe_list_customers", {"email": "ann@example.com"})).structured_content[
            "items"
        ]
        assert [c["name"] for c in ann] == ["Ann Example"]
        charges = (await client.call_tool("stripe_list_charges", {"customer": ann[0]["id"]})).structured_content[
            "items"
        ]
        assert {c["amount_display"] for c in charges} == {"50.00 EUR", "1200 JPY"}
        intent = (await client.call_tool("stripe_list_payment_intents", {})).structured_content["items"][0]
        assert intent["amount"] == 5000 and intent["amount_received_display"] == "50.00 EUR"
        invoices = (await client.call_tool("stripe_list_invoices", {"status": "paid"})).structured_content["items"]
        assert invoices[0]["number"] == "INV-0001" and invoices[0]["amount_paid_display"] == "19.99 EUR"
        subs = (await client.call_tool("stripe_list_subscriptions", {})).structured_content["items"]
        assert subs[0]["items"] == [
            {
                "id": subs[0]["items"][0]["id"],
                "currency": "eur",
                "active": True,
                "nickname": "Tea club",
                "type": "recurring",
                "product": "prod_tea",
                "interval": "month",
                "unit_amount": 1999,
                "unit_amount_display": "19.99 EUR",
                "quantity": 2,
            }
        ]
        balance = (await client.call_tool("stripe_get_balance", {})).structured_content
        assert (
            balance["available"][0]["amount_display"] == "1234.56 EUR"
            and balance["pending"][0]["amount_display"] == "5000 JPY"
        )
        prices = (await client.call_tool("stripe_list_prices", {})).structured_content["items"]
        assert [p["nickname"] for p in prices] == ["Tea club"]


async def test_stripe_errors_name_the_parameter(stripe_api: StripeWire) -> None:
    async with pack_client("stripe", stripe_pack(stripe_api)) as client:
        message = refusal(await client.call_tool("stripe_get_customer", {"customer": "cus_nobody"}))
        assert (
            "Stripe rejected the request (404): No such customer: 'cus_nobody'; parameter: id; code: resource_missing"
            in message
        )
        assert "pattern" in refusal(await client.call_tool("stripe_get_customer", {"customer": "bob"}))
        page = (await client.call_tool("stripe_list_customers", {})).structured_content
        other = refusal(
            await client.call_tool("stripe_list_customers", {"email": "x@example.com", "cursor": page["next_cursor"]})
        )
        assert "cursor belongs to a different query" in other
    async with pack_client("stripe", stripe_pack(stripe_api, api_key="sk_test_revoked_secret")) as client:
        message = refusal(await client.call_tool("stripe_get_balance", {}))
        assert message.endswith("Stripe refused the API key (401): it is wrong, revoked, or for another account")
        assert "revoked_secret" not in message


@pytest.mark.parametrize("key", ["sk_live_51Habc", "rk_live_51Habc"])
def test_live_keys_are_refused_at_startup_unless_allowed(key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build(load_settings(packs="stripe", pack={"stripe": {"api_key": key}}))
    message = str(caught.value)
    assert "pack.stripe" in message and f"live-mode key ({key[:8]}…): refused unless allow_live = true" in message
    assert key not in message
    assert build(load_settings(packs="stripe", pack={"stripe": {"api_key": key, "allow_live": True}})).registry.get(
        "stripe_get_balance"
    )


def test_a_key_that_is_not_stripe_is_refused() -> None:
    with pytest.raises(ConfigError, match="does not look like a Stripe secret or restricted key"):
        build(load_settings(packs="stripe", pack={"stripe": {"api_key": "pk_test_publishable"}}))
