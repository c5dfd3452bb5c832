"""Which requests the fast path answers: the header pass and the body shape, both strict.

A request qualifies only when the SDK would dispatch it without a rejection and without
anything the fast path does not do (a progress stream, `Mcp-Param-*` headers, pagination).
Everything here either accepts or hands the request to the SDK; nothing here answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from mcp.server.streamable_http import check_accept_headers
from mcp.shared.inbound import InboundModernRoute, classify_inbound_request
from mcp_types import CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, PROTOCOL_VERSION_META_KEY
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

TOOLS_CALL = "tools/call"
TOOLS_LIST = "tools/list"
SERVER_DISCOVER = "server/discover"
FAST_METHODS = frozenset({TOOLS_CALL, TOOLS_LIST, SERVER_DISCOVER})

_MODERN = frozenset(v.encode() for v in MODERN_PROTOCOL_VERSIONS)
_METHODS = frozenset(m.encode() for m in FAST_METHODS)
_ROUTING = (b"mcp-protocol-version", b"mcp-method", b"mcp-name")
_ENVELOPE_KEYS = frozenset({PROTOCOL_VERSION_META_KEY, CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY})
_CALL_PARAMS = frozenset({"name", "arguments", "_meta"})
_LIST_PARAMS = frozenset({"_meta"})
_MESSAGE_KEYS = frozenset({"jsonrpc", "id", "method", "params"})


@dataclass(frozen=True, slots=True)
class Routing:
    """The routing headers of a request the fast path may take, as sent."""

    version: str
    method: str
    name: str | None

    def as_headers(self) -> dict[str, str]:
        headers = {"mcp-protocol-version": self.version, "mcp-method": self.method}
        if self.name is not None:
            headers["mcp-name"] = self.name
        return headers


class _AcceptMemo:
    """The SDK's own Accept verdict (`check_accept_headers`), remembered per distinct header value."""

    def __init__(self, limit: int = 256) -> None:
        self._verdicts: dict[bytes, bool] = {}
        self._limit = limit

    def takes_json_and_sse(self, raw: bytes) -> bool:
        verdict = self._verdicts.get(raw)
        if verdict is None:
            has_json, has_sse = check_accept_headers(SimpleNamespace(headers={"accept": raw.decode("latin-1")}))
            verdict = has_json and has_sse  # the SDK's SSE-capable mode answers 406 without both
            if len(self._verdicts) >= self._limit:
                self._verdicts.clear()
            self._verdicts[raw] = verdict
        return verdict


_accept = _AcceptMemo()


def single_headers(headers: list[tuple[bytes, bytes]], wanted: frozenset[bytes]) -> dict[bytes, bytes] | None:
    """The `wanted` headers of the raw list, or None when one repeats or an `mcp-*` header is not wanted.

    Raw, because a folded mapping hides repeats (the SDK refuses a repeated routing header), and
    `Mcp-Param-*` headers are checked against the tool's schema by the SDK.
    """
    found: dict[bytes, bytes] = {}
    for key, value in headers:
        if key in wanted:
            if key in found:
                return None
            found[key] = value
        elif key.startswith(b"mcp-"):
            return None
    return found


def plain_json_post(found: dict[bytes, bytes]) -> bool:
    """`Content-Type: application/json` and an Accept naming JSON and SSE, as the SDK requires."""
    content_type, accept = found.get(b"content-type"), found.get(b"accept")
    return (
        content_type is not None
        and content_type.lower().startswith(b"application/json")
        and accept is not None
        and _accept.takes_json_and_sse(accept)
    )


_MODERN_HEADERS = frozenset({b"accept", b"content-type", *_ROUTING})


def routing_of(headers: list[tuple[bytes, bytes]]) -> Routing | None:
    """The routing headers of a 2026-era request for the fast path, or None when the SDK should answer."""
    found = single_headers(headers, _MODERN_HEADERS)
    if found is None or not plain_json_post(found):
        return None
    version, method, name = (found.get(key) for key in _ROUTING)
    if version not in _MODERN or method not in _METHODS:
        return None
    try:
        return Routing(version.decode("ascii"), method.decode("ascii"), None if name is None else name.decode("ascii"))  # type: ignore[union-attr]
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True, slots=True)
class Exchange:
    """A request the fast path answers: its JSON-RPC id, method and params, and the envelope verdict."""

    request_id: int | str
    method: str
    params: dict[str, Any]
    route: InboundModernRoute


def exchange_of(message: Any, routing: Routing, callable_tools: Any) -> Exchange | None:
    """The decoded body as an `Exchange`, or None when anything about it is for the SDK to judge."""
    if type(message) is not dict or message.keys() - _MESSAGE_KEYS or message.get("jsonrpc") != "2.0":
        return None
    request_id = message.get("id")
    if type(request_id) is not int and type(request_id) is not str:  # bool, float, null: the SDK says what is wrong
        return None
    method, params = message.get("method"), message.get("params")
    if method != routing.method or type(params) is not dict:
        return None
    meta = params.get("_meta")
    if type(meta) is not dict or meta.keys() - _ENVELOPE_KEYS:  # progressToken, logLevel, requestState...: SDK
        return None
    if method == TOOLS_CALL:
        name = params.get("name")
        if params.keys() - _CALL_PARAMS or type(name) is not str or name not in callable_tools:
            return None
        arguments = params.get("arguments")
        if arguments is not None and type(arguments) is not dict:
            return None
    elif params.keys() - _LIST_PARAMS:  # a cursor: pagination is the SDK's
        return None
    route = classify_inbound_request(message, headers=routing.as_headers())
    if not isinstance(route, InboundModernRoute):
        return None
    return Exchange(request_id, method, params, route)
