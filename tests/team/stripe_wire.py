"""A local server speaking Stripe's API wire format for the endpoints the stripe pack uses.

As Stripe does (docs.stripe.com/api): `Authorization: Bearer <key>`; form-encoded bodies with
bracket nesting (`line_items[0][price]=...`); JSON objects with `object`, `id`, `livemode`;
lists as `{"object": "list", "data", "has_more", "url"}` paged with `limit` and
`starting_after`; errors as `{"error": {"type", "code", "param", "message", "doc_url"}}` with
the matching status; unknown parameters refused; `Idempotency-Key` on POST: a replay returns
the first response with `Idempotent-Replayed: true`, the same key with other parameters is a 400
`idempotency_error`. Every request gets a `Request-Id`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DOCS = "https://docs.stripe.com/error-codes"
LIST_FILTERS = {
    "customers": {"email"},
    "payment_intents": {"customer"},
    "charges": {"customer", "payment_intent"},
    "invoices": {"customer", "status"},
    "subscriptions": {"customer", "status"},
    "prices": {"active"},
    "refunds": {"charge", "payment_intent"},
    "payment_links": set(),
}
PREFIX = {
    "customers": "cus",
    "payment_intents": "pi",
    "charges": "ch",
    "invoices": "in",
    "subscriptions": "sub",
    "prices": "price",
    "refunds": "re",
    "payment_links": "plink",
}
OBJECT = {
    "customers": "customer",
    "payment_intents": "payment_intent",
    "charges": "charge",
    "invoices": "invoice",
    "subscriptions": "subscription",
    "prices": "price",
    "refunds": "refund",
    "payment_links": "payment_link",
}


def parse_form(body: bytes) -> dict[str, Any]:
    """`a[b][0][c]=1` -> {"a": {"b": [{"c": "1"}]}}, as Stripe reads form bodies."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+|\[\]", key)
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt = parts[i + 1] if not last else None
            container: Any = [] if nxt is not None and (nxt.isdigit() or nxt == "[]") else {}
            if isinstance(node, list):
                index = len(node) if part == "[]" else int(part)
                while len(node) <= index:
                    node.append(None)
                if last:
                    node[index] = value
                else:
                    node[index] = node[index] if node[index] is not None else container
                    node = node[index]
            elif last:
                node[part] = value
            else:
                node = node.setdefault(part, container)
    return root


@dataclass
class StripeWire:
    api_keys: set[str] = field(default_factory=lambda: {"sk_test_wire"})
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {k: {} for k in PREFIX})
    balance: dict[str, Any] = field(
        default_factory=lambda: {
            "object": "balance",
            "livemode": False,
            "available": [{"amount": 123456, "currency": "eur", "source_types": {"card": 123456}}],
            "pending": [{"amount": 5000, "currency": "jpy", "source_types": {"card": 5000}}],
        }
    )
    idempotency: dict[str, tuple[dict[str, Any], int, bytes]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""
    _counter: int = 0

    def add(self, kind: str, **fields: Any) -> dict[str, Any]:
        self._counter += 1
        obj = {
            "id": f"{PREFIX[kind]}_{self._counter:06d}",
            "object": OBJECT[kind],
            "livemode": False,
            "created": 1_790_000_000 + self._counter,
            "metadata": {},
            **fields,
        }
        self.objects[kind][obj["id"]] = obj
        return obj

    def paid_charge(self, amount: int, currency: str, **fields: Any) -> dict[str, Any]:
        """A succeeded charge with nothing refunded yet."""
        return self.add(
            "charges",
            amount=amount,
            amount_refunded=0,
            currency=currency,
            status="succeeded",
            paid=True,
            refunded=False,
            **fields,
        )

    def posts(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "POST" and r["path"] == path]


def error(status: int, kind: str, message: str, *, code: str | None = None, param: str | None = None) -> JSONResponse:
    body = {"type": kind, "message": message, "doc_url": f"{DOCS}#{code}" if code else None}
    body |= {k: v for k, v in {"code": code, "param": param}.items() if v}
    return JSONResponse({"error": body}, status)


def make_app(wire: StripeWire) -> Starlette:
    def listed(request: Request, kind: str) -> Response:
        q = dict(request.query_params)
        unknown = set(q) - LIST_FILTERS[kind] - {"limit", "starting_after", "ending_before", "expand[]"}
        if unknown:
            name = min(unknown)
            return error(
                400,
                "invalid_request_error",
                f"Received unknown parameter: {name}",
                code="parameter_unknown",
                param=name,
            )
        limit = int(q.get("limit", 10))
        if not 1 <= limit <= 100:
            return error(
                400, "invalid_request_error", "Invalid integer: limit must be between 1 and 100", param="limit"
            )
        items = sorted(wire.objects[kind].values(), key=lambda o: o["created"], reverse=True)
        for name in LIST_FILTERS[kind] & set(q):
            items = [o for o in items if str(o.get(name)).lower() == q[name].lower()]
        if "starting_after" in q:
            ids = [o["id"] for o in items]
            if q["starting_after"] not in ids:
                return error(
                    400,
                    "invalid_request_error",
                    f"No such {OBJECT[kind]}: '{q['starting_after']}'",
                    code="resource_missing",
                    param="starting_after",
                )
            items = items[ids.index(q["starting_after"]) + 1 :]
        return JSONResponse(
            {"object": "list", "url": f"/v1/{kind}", "has_more": len(items) > limit, "data": items[:limit]}
        )

    def retrieved(kind: str, object_id: str) -> Response:
        obj = wire.objects[kind].get(object_id)
        if obj is None:
            return error(
                404,
                "invalid_request_error",
                f"No such {OBJECT[kind]}: '{object_id}'",
                code="resource_missing",
                param="id",
            )
        return JSONResponse(obj)

    def create_refund(params: dict[str, Any]) -> Response:
        allowed = {"charge", "payment_intent", "amount", "reason", "metadata"}
        if set(params) - allowed:
            name = min(set(params) - allowed)
            return error(
                400,
                "invalid_request_error",
                f"Received unknown parameter: {name}",
                code="parameter_unknown",
                param=name,
            )
        charge_id = params.get("charge")
        if "payment_intent" in params:
            intent = wire.objects["payment_intents"].get(params["payment_intent"])
            if intent is None:
                return error(
                    400,
                    "invalid_request_error",
                    f"No such payment_intent: '{params['payment_intent']}'",
                    code="resource_missing",
                    param="payment_intent",
                )
            charge_id = intent.get("latest_charge")
        if not charge_id:
            return error(
                400,
                "invalid_request_error",
                "One of the following params should be provided for this request: payment_intent or charge.",
                code="parameter_missing",
                param="charge",
            )
        charge = wire.objects["charges"].get(charge_id)
        if charge is None:
            return error(
                400, "invalid_request_error", f"No such charge: '{charge_id}'", code="resource_missing", param="charge"
            )
        left = charge["amount"] - charge["amount_refunded"]
        if left <= 0:
            return error(
                400,
                "invalid_request_error",
                f"Charge {charge_id} has already been refunded.",
                code="charge_already_refunded",
                param="charge",
            )
        amount = int(params.get("amount", left))
        if amount > left:
            return error(
                400,
                "invalid_request_error",
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                code="amount_too_large",
                param="amount",
            )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund = wire.add(
            "refunds",
            amount=amount,
            currency=charge["currency"],
            charge=charge_id,
            status="succeeded",
            payment_intent=charge.get("payment_intent"),
            reason=params.get("reason"),
        )
        return JSONResponse(refund)

    def create_payment_link(params: dict[str, Any]) -> Response:
        items = params.get("line_items")
        if not items:
            return error(
                400,
                "invalid_request_error",
                "Missing required param: line_items.",
                code="parameter_missing",
                param="line_items",
            )
        for i, item in enumerate(items):
            price = wire.objects["prices"].get(item.get("price"))
            if price is None or not price.get("active", True):
                return error(
                    400,
                    "invalid_request_error",
                    f"No such price: '{item.get('price')}'",
                    code="resource_missing",
                    param=f"line_items[{i}][price]",
                )
        first = wire.objects["prices"][items[0]["price"]]
        link = wire.add(
            "payment_links",
            active=True,
            currency=first["currency"],
            url=f"https://buy.stripe.com/test_{wire._counter:08d}",
            line_items={"object": "list", "data": items, "has_more": False, "url": ""},
        )
        return JSONResponse(link)

    async def handle(request: Request) -> Response:
        body = await request.body()
        params = parse_form(body) if request.method == "POST" else {}
        key = request.headers.get("idempotency-key")
        wire.requests.append(
            {
                "method": request.method,
                "path": request.url.path,
                "params": params,
                "idempotency_key": key,
                "content_type": request.headers.get("content-type"),
            }
        )
        scheme, _, api_key = request.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or api_key not in wire.api_keys:
            masked = f"{api_key[:8]}{'*' * 12}{api_key[-4:]}" if len(api_key) > 12 else "****"
            return error(401, "invalid_request_error", f"Invalid API Key provided: {masked}")
        if request.method == "POST" and key and key in wire.idempotency:
            first_params, status, first_body = wire.idempotency[key]
            if first_params != params:
                return error(
                    400,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same "
                    "parameters they were first used with. Try using a key other than "
                    f"'{key}' if you meant to execute a different request.",
                )
            return Response(first_body, status, media_type="application/json", headers={"Idempotent-Replayed": "true"})
        response = route(request, params)
        if request.method == "POST" and key and response.status_code < 500:
            wire.idempotency[key] = (params, response.status_code, bytes(response.body))
        response.headers["Request-Id"] = f"req_{len(wire.requests):014d}"
        response.headers["Stripe-Version"] = request.headers.get("stripe-version", "2026-10-28")
        return response

    def route(request: Request, params: dict[str, Any]) -> Response:
        parts = request.url.path.strip("/").split("/")
        if parts[:1] != ["v1"] or len(parts) < 2:
            return error(404, "invalid_request_error", f"Unrecognized request URL (GET: {request.url.path}).")
        kind = parts[1]
        if kind == "balance":
            return JSONResponse(wire.balance)
        if kind not in PREFIX:
            return error(
                404, "invalid_request_error", f"Unrecognized request URL ({request.method}: {request.url.path})."
            )
        if request.method == "GET":
            return listed(request, kind) if len(parts) == 2 else retrieved(kind, parts[2])
        if kind == "refunds":
            return create_refund(params)
        if kind == "payment_links":
            return create_payment_link(params)
        return error(404, "invalid_request_error", f"Unrecognized request URL (POST: {request.url.path}).")

    return Starlette(routes=[Route("/{path:path}", handle, methods=["GET", "POST", "DELETE"])])


def scenario() -> StripeWire:
    """Customers, a paid EUR payment, a paid JPY charge, invoices, a subscription and prices."""
    wire = StripeWire()
    ann = wire.add(
        "customers", name="Ann Example", email="ann@example.com", balance=0, currency="eur", delinquent=False
    )
    for n in range(25):
        wire.add("customers", name=f"Customer {n}", email=f"c{n}@example.com", balance=0, delinquent=False)
    intent = wire.add(
        "payment_intents",
        amount=5000,
        amount_received=5000,
        currency="eur",
        status="succeeded",
        customer=ann["id"],
        description="Order 1001",
    )
    charge = wire.paid_charge(5000, "eur", customer=ann["id"], payment_intent=intent["id"], description="Order 1001")
    intent["latest_charge"] = charge["id"]
    wire.paid_charge(1200, "jpy", customer=ann["id"], description="Tea")
    price = wire.add(
        "prices",
        unit_amount=1999,
        currency="eur",
        active=True,
        type="recurring",
        product="prod_tea",
        recurring={"interval": "month"},
        nickname="Tea club",
    )
    wire.add("prices", unit_amount=500, currency="usd", active=False, type="one_time", product="prod_old")
    wire.add(
        "invoices",
        number="INV-0001",
        status="paid",
        customer=ann["id"],
        currency="eur",
        total=1999,
        amount_due=1999,
        amount_paid=1999,
        amount_remaining=0,
        hosted_invoice_url="https://invoice.stripe.com/i/x",
    )
    wire.add(
        "subscriptions",
        status="active",
        customer=ann["id"],
        currency="eur",
        cancel_at_period_end=False,
        items={"object": "list", "data": [{"id": "si_1", "price": price, "quantity": 2}], "has_more": False},
    )
    return wire
