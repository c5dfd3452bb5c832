"""The `stripe` pack: customers, payments, invoices, subscriptions and balance on the official SDK.

Read-only unless `allow_writes = true`; then refunds and payment links exist, need
`stripe:write`, are annotated destructive, and carry an idempotency key derived from the
caller, the tool and the arguments, so a retried or replayed call returns the first result
instead of refunding twice. A live-mode key is refused at startup unless `allow_live = true`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import stripe

from mcpcloud.packs import PackContext
from mcpcloud.packs.stripe.gateway import make_client
from mcpcloud.packs.stripe.reads import register_reads
from mcpcloud.packs.stripe.settings import StripeSettings
from mcpcloud.packs.stripe.writes import register_writes

name = "stripe"
description = "Stripe customers, payments, invoices, subscriptions and balance; refunds and payment links when enabled."
Settings = StripeSettings


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
    register_reads(ctx, v1, settings)
    if settings.allow_writes:
        register_writes(ctx, v1)
