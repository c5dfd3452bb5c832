"""Stripe objects cut down to what a model needs, each amount with its display form (money.py)."""

from __future__ import annotations

from typing import Any

from mcpcloud.packs.stripe.money import display


def _pick(obj: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: obj[k] for k in keys if obj.get(k) is not None}


def _id(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


def _money(obj: dict[str, Any], out: dict[str, Any], *fields: str) -> dict[str, Any]:
    for field in fields:
        if obj.get(field) is not None:
            out[field] = obj[field]
            out[f"{field}_display"] = display(obj[field], obj.get("currency"))
    return out


def customer(c: dict[str, Any]) -> dict[str, Any]:
    return _pick(
        c, "id", "name", "email", "phone", "description", "currency", "balance", "delinquent", "created", "metadata"
    )


def payment_intent(p: dict[str, Any]) -> dict[str, Any]:
    out = _pick(p, "id", "currency", "status", "description", "created", "livemode", "metadata")
    out.update({k: _id(p.get(k)) for k in ("customer", "latest_charge") if p.get(k)})
    return _money(p, out, "amount", "amount_received")


def charge(c: dict[str, Any]) -> dict[str, Any]:
    out = _pick(
        c, "id", "currency", "status", "paid", "refunded", "description", "failure_message", "created", "livemode"
    )
    out.update({k: _id(c.get(k)) for k in ("customer", "payment_intent") if c.get(k)})
    return _money(c, out, "amount", "amount_refunded")


def invoice(i: dict[str, Any]) -> dict[str, Any]:
    out = _pick(i, "id", "number", "status", "currency", "due_date", "created", "hosted_invoice_url")
    out["customer"] = _id(i.get("customer"))
    return _money(i, out, "total", "amount_due", "amount_paid", "amount_remaining")


def subscription(s: dict[str, Any]) -> dict[str, Any]:
    out = _pick(s, "id", "status", "currency", "cancel_at_period_end", "created", "canceled_at")
    out["customer"] = _id(s.get("customer"))
    out["items"] = [
        price(item.get("price") or {}) | {"quantity": item.get("quantity")}
        for item in (s.get("items") or {}).get("data", [])
    ]
    return out


def price(p: dict[str, Any]) -> dict[str, Any]:
    out = _pick(p, "id", "currency", "active", "nickname", "type")
    out["product"] = _id(p.get("product"))
    if p.get("recurring"):
        out["interval"] = p["recurring"].get("interval")
    return _money(p, out, "unit_amount")


def balance(b: dict[str, Any]) -> dict[str, Any]:
    def funds(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [_money(e, {"currency": e.get("currency")}, "amount") for e in entries]

    return {
        "livemode": b.get("livemode"),
        "available": funds(b.get("available", [])),
        "pending": funds(b.get("pending", [])),
    }


def refund(r: dict[str, Any]) -> dict[str, Any]:
    out = _pick(r, "id", "currency", "status", "reason", "created")
    out.update({k: _id(r.get(k)) for k in ("charge", "payment_intent") if r.get(k)})
    return _money(r, out, "amount")


def payment_link(link: dict[str, Any]) -> dict[str, Any]:
    return _pick(link, "id", "url", "active", "livemode", "currency")
