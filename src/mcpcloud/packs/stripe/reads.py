"""The stripe pack's read tools (`stripe:read`): lists page with Stripe's `starting_after`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from mcpcloud.packs import PackContext
from mcpcloud.packs.cursors import decode_cursor, encode_cursor, query_digest
from mcpcloud.packs.stripe import trim
from mcpcloud.packs.stripe.gateway import as_dict, call
from mcpcloud.packs.stripe.settings import StripeSettings

READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)

Cursor = Annotated[str | None, Field(description="next_cursor of the previous page, for the next one.")]
CustomerId = Annotated[str | None, Field(pattern=r"^cus_\w+$", description="Only objects of this customer (cus_…).")]


class StripePage(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None = Field(None, description="Pass it back as `cursor` for more; null on the last page.")


def register_reads(ctx: PackContext, v1: Any, settings: StripeSettings) -> None:
    async def listing(
        tool: str,
        service: Any,
        filters: dict[str, Any],
        cursor: str | None,
        shape: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> StripePage:
        digest = query_digest(tool, filters)
        after = decode_cursor(cursor, digest)
        params = {k: v for k, v in filters.items() if v is not None} | {"limit": settings.page_size}
        if after:
            params["starting_after"] = after
        page = as_dict(await call(service.list_async(params)))
        items = page.get("data", [])
        next_after = items[-1]["id"] if page.get("has_more") and items else None
        return StripePage(items=[shape(i) for i in items], next_cursor=encode_cursor(next_after, digest))

    async def one(service: Any, object_id: str, shape: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        return shape(as_dict(await call(service.retrieve_async(object_id))))

    @ctx.tool(title="List customers", annotations=READ)
    async def stripe_list_customers(
        email: Annotated[str | None, Field(description="Only customers with this exact email.")] = None,
        cursor: Cursor = None,
    ) -> StripePage:
        """Customers, newest first: id, name, email, balance."""
        return await listing("stripe_list_customers", v1.customers, {"email": email}, cursor, trim.customer)

    @ctx.tool(title="Get a customer", annotations=READ)
    async def stripe_get_customer(customer: Annotated[str, Field(pattern=r"^cus_\w+$")]) -> dict[str, Any]:
        """One customer by id (cus_…)."""
        return await one(v1.customers, customer, trim.customer)

    @ctx.tool(title="List payment intents", annotations=READ)
    async def stripe_list_payment_intents(customer: CustomerId = None, cursor: Cursor = None) -> StripePage:
        """Payment intents, newest first, amounts in minor units with their display form."""
        return await listing(
            "stripe_list_payment_intents", v1.payment_intents, {"customer": customer}, cursor, trim.payment_intent
        )

    @ctx.tool(title="Get a payment intent", annotations=READ)
    async def stripe_get_payment_intent(payment_intent: Annotated[str, Field(pattern=r"^pi_\w+$")]) -> dict[str, Any]:
        """One payment intent by id (pi_…)."""
        return await one(v1.payment_intents, payment_intent, trim.payment_intent)

    @ctx.tool(title="List charges", annotations=READ)
    async def stripe_list_charges(
        customer: CustomerId = None,
        payment_intent: Annotated[str | None, Field(pattern=r"^pi_\w+$")] = None,
        cursor: Cursor = None,
    ) -> StripePage:
        """Charges, newest first, with how much of each is refunded."""
        filters = {"customer": customer, "payment_intent": payment_intent}
        return await listing("stripe_list_charges", v1.charges, filters, cursor, trim.charge)

    @ctx.tool(title="List invoices", annotations=READ)
    async def stripe_list_invoices(
        customer: CustomerId = None,
        status: Literal["draft", "open", "paid", "uncollectible", "void"] | None = None,
        cursor: Cursor = None,
    ) -> StripePage:
        """Invoices, newest first: number, status, totals due and paid."""
        filters = {"customer": customer, "status": status}
        return await listing("stripe_list_invoices", v1.invoices, filters, cursor, trim.invoice)

    @ctx.tool(title="List subscriptions", annotations=READ)
    async def stripe_list_subscriptions(
        customer: CustomerId = None,
        status: Literal["active", "past_due", "unpaid", "canceled", "incomplete", "trialing", "paused", "all"]
        | None = None,
        cursor: Cursor = None,
    ) -> StripePage:
        """Subscriptions with their prices and quantities."""
        filters = {"customer": customer, "status": status}
        return await listing("stripe_list_subscriptions", v1.subscriptions, filters, cursor, trim.subscription)

    @ctx.tool(title="List prices", annotations=READ)
    async def stripe_list_prices(
        active: Annotated[bool | None, Field(description="Only active (true) or archived (false) prices.")] = True,
        cursor: Cursor = None,
    ) -> StripePage:
        """Prices (what payment links sell): product, unit amount, currency, interval."""
        return await listing("stripe_list_prices", v1.prices, {"active": active}, cursor, trim.price)

    @ctx.tool(title="Get the balance", annotations=READ)
    async def stripe_get_balance() -> dict[str, Any]:
        """Funds available and pending, per currency."""
        return trim.balance(as_dict(await call(v1.balance.retrieve_async())))
