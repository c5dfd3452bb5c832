"""`[pack.stripe]`: the API key, the live-mode guard and whether refunds and payment links exist."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from mcpcloud.config import Section

LIVE_PREFIXES = ("sk_live_", "rk_live_")


class StripeSettings(Section):
    api_key: SecretStr = Field(
        description="A restricted key (rk_test_/rk_live_) with only the permissions the tools need, "
        "or a secret key (or `api_key_file`)."
    )
    api_base: str = Field("https://api.stripe.com", description="API root; a local server in tests.")
    allow_live: bool = Field(False, description="Accept a live-mode key (sk_live_/rk_live_): real money moves.")
    allow_writes: bool = Field(False, description="Offer stripe_create_refund and stripe_create_payment_link.")
    page_size: int = Field(20, ge=1, le=100, description="Objects per page of list tools.")
    timeout_seconds: float = Field(30.0, gt=0, description="Longest wait for one Stripe request.")

    @model_validator(mode="after")
    def _live_mode_guard(self) -> StripeSettings:
        key = self.api_key.get_secret_value()
        if key.startswith(LIVE_PREFIXES) and not self.allow_live:
            kind = key[: key.index("_live_") + 6]
            raise ValueError(
                f"api_key is a live-mode key ({kind}…): refused unless allow_live = true. "
                "Use a test-mode key (sk_test_/rk_test_), or set allow_live = true with a restricted key (rk_live_)"
            )
        if not key.startswith(("sk_", "rk_")):
            raise ValueError("api_key does not look like a Stripe secret or restricted key (sk_… or rk_…)")
        return self

    @property
    def live(self) -> bool:
        return self.api_key.get_secret_value().startswith(LIVE_PREFIXES)
