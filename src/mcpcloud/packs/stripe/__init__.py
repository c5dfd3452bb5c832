"""The `stripe` pack: customers, payments, invoices, subscriptions and balance on the official SDK.

Read-only unless `allow_writes = true`; then refunds and payment links exist, need
`stripe:write`, are annotated destructive, and carry an idempotency key derived from the
caller, the tool and the arguments, so a retried or replayed call returns the first result
instead of refunding twice. A live-mode key is refused at startup unless `allow_live = true`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

import stripe
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from mcpcloud.observability.request_identity import principal_of
from mcpcloud.packs import PackContext
from mcpcloud.packs.cursors import decode_cursor, encode_cursor, query_digest
from mcpcloud.packs.stripe import money, refunds, trim
from mcpcloud.packs.stripe.gateway import as_dict, call, idempotency_key, make_client
from mcpcloud.packs.stripe.settings import StripeSettings

name = "stripe"
description = "Stripe customers, payments, invoices, subscriptions and balance; refunds and payment links when enabled."
Settings = StripeSettings

READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
# Money moves: destructive. Idempotent because the derived idempotency key makes a repeat a replay.
MONEY = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True)

Cursor = Annotated[str | None, Field(description="next_cursor of the previous page, for the next one.")]
CustomerId = Annotated[str | None, Field(pattern=r"^cus_\w+$", description="Only objects of this customer (cus_…).")]


class StripePage(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None = Field(None, description="Pass it back as `cursor` for more; null on the last page.")


def register(ctx: PackContext) -> None:
    settings: StripeSettings = ctx.settings
    http = stripe.HTTPXClient(timeout=settings.timeout_seconds)
    v1 = make_client(settings, http).v1

    @asynccontextmanager
    async def http_client_closed() -> AsyncIterator[None]:
        try:
            yield
        finally:
            await http.close_async()

    ctx.lifespan(http_client_closed)

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

    if settings.allow_writes:
        register_writes(ctx, v1)


RepeatId = Annotated[
    str | None,
    Field(
        max_length=100, description="Only to repeat an identical call on purpose: a new value makes it a new request."
    ),
]


def register_writes(ctx: PackContext, v1: Any) -> None:
    def key_for(context: Context[Any, Any], tool: str, arguments: dict[str, Any]) -> dict[str, str]:
        return {"idempotency_key": idempotency_key(principal_of(context.request_context), tool, arguments)}

    @ctx.tool(title="Refund a payment", annotations=MONEY)
    async def stripe_create_refund(
        context: Context[Any, Any],
        payment_intent: Annotated[
            str | None, Field(pattern=r"^pi_\w+$", description="The payment to refund (pi_…).")
        ] = None,
        charge: Annotated[str | None, Field(pattern=r"^ch_\w+$", description="Or the charge to refund (ch_…).")] = None,
        amount: Annotated[
            int | None,
            Field(
                ge=1,
                description="Minor units of the payment's currency (1000 = 10.00 EUR); all that is left when omitted.",
            ),
        ] = None,
        currency: Annotated[
            str | None,
            Field(pattern=r"^[A-Za-z]{3}$", description="The currency you mean; refused if it is not the payment's."),
        ] = None,
        reason: Literal["duplicate", "fraudulent", "requested_by_customer"] | None = None,
        repeat_id: RepeatId = None,
    ) -> dict[str, Any]:
        """Refund all or part of a payment. Repeating the same call returns the first refund, never a second one."""
        if (payment_intent is None) == (charge is None):
            raise ToolError("give exactly one of payment_intent (pi_…) or charge (ch_…)")
        paid = await refunds.charge_of(v1, payment_intent, charge)
        what = f"payment {payment_intent or charge}"
        money.check_currency(currency, paid["currency"], what)
        arguments = {
            "payment_intent": payment_intent,
            "charge": charge,
            "amount": amount,
            "reason": reason,
            "repeat_id": repeat_id,
        }
        params = {k: v for k, v in arguments.items() if v is not None and k != "repeat_id"}
        options = key_for(context, "stripe_create_refund", arguments)
        return trim.refund(await refunds.create(v1, params, options, paid, what))

    @ctx.tool(title="Create a payment link", annotations=MONEY)
    async def stripe_create_payment_link(
        context: Context[Any, Any],
        price: Annotated[
            str, Field(pattern=r"^price_\w+$", description="The price to sell (price_…, see stripe_list_prices).")
        ],
        quantity: Annotated[int, Field(ge=1, le=999)] = 1,
        repeat_id: RepeatId = None,
    ) -> dict[str, Any]:
        """A shareable checkout URL for a price. Repeating the same call returns the same link."""
        params = {"line_items": [{"price": price, "quantity": quantity}]}
        options = key_for(
            context, "stripe_create_payment_link", {"price": price, "quantity": quantity, "repeat_id": repeat_id}
        )
        return trim.payment_link(as_dict(await call(v1.payment_links.create_async(params, options))))
