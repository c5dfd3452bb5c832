"""The stripe pack's money-moving tools (`stripe:write`, only with `allow_writes`).

Each carries an idempotency key derived from the caller, the tool and the arguments, so a
retried or replayed call returns the first result instead of refunding twice.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from mcpcloud.packs import PackContext
from mcpcloud.packs.stripe import money, refunds, trim
from mcpcloud.packs.stripe.gateway import as_dict, call, idempotency_key

# Money moves: destructive. Idempotent because the derived idempotency key makes a repeat a replay.
MONEY = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True)

RepeatId = Annotated[
    str | None,
    Field(
        max_length=100, description="Only to repeat an identical call on purpose: a new value makes it a new request."
    ),
]


def register_writes(ctx: PackContext, v1: Any) -> None:
    def key_for(context: Context[Any, Any], tool: str, arguments: dict[str, Any]) -> dict[str, str]:
        return {"idempotency_key": idempotency_key(ctx.caller(context).id, tool, arguments)}

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
