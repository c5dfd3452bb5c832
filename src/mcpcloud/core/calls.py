"""One MCP call, parsed once: what is called, with which arguments, by whom, in which protocol era.

Tools (`tools/call`), resources (`resources/read`) and prompts (`prompts/get`) are the calls the
policies decide. `target_of` is the one place their name is read off a request; the HTTP front,
the stdio pipeline and the fast path all build their `Call` with `Call.parse`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

from mcpcloud.core.principal import Principal

TOOLS_CALL: Final = "tools/call"
RESOURCES_READ: Final = "resources/read"
PROMPTS_GET: Final = "prompts/get"
TOOLS_LIST: Final = "tools/list"
RESOURCES_LIST: Final = "resources/list"
RESOURCE_TEMPLATES_LIST: Final = "resources/templates/list"
PROMPTS_LIST: Final = "prompts/list"

CallKind = Literal["tool", "resource", "prompt"]

KIND_OF_METHOD: Final[dict[str, CallKind]] = {TOOLS_CALL: "tool", RESOURCES_READ: "resource", PROMPTS_GET: "prompt"}
"""The methods the policies decide, and what each calls."""
_NAME_PARAM: Final[dict[CallKind, str]] = {"tool": "name", "resource": "uri", "prompt": "name"}


def target_of(method: str | None, params: Any) -> tuple[CallKind, str] | None:
    """(kind, name) of a tool/resource/prompt call; None for other methods or a call without a name."""
    kind = KIND_OF_METHOD.get(method) if isinstance(method, str) else None
    if kind is None or not isinstance(params, Mapping):
        return None
    name = params.get(_NAME_PARAM[kind])
    return (kind, name) if isinstance(name, str) else None


def tool_name(method: str | None, params: Any) -> str | None:
    """The tool a `tools/call` names, else None."""
    target = target_of(method, params)
    return target[1] if target is not None and target[0] == "tool" else None


def trace_id_from(traceparent: str | None) -> str | None:
    """The trace id of a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`)."""
    if not traceparent:
        return None
    parts = traceparent.split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else None


@dataclass(slots=True)
class Call:
    """A tool, resource or prompt call as every policy, the audit log and the metrics see it."""

    method: str
    kind: CallKind
    name: str
    """The tool's name, the resource's URI or the prompt's name."""
    arguments: Any
    principal: Principal
    era: str
    """The protocol version the call came with (`2026-07-28`, `2025-11-25`, ...; '' when unknown)."""
    request_id: Any = None
    """The HTTP `X-Request-Id` when there is one, else the JSON-RPC id."""
    trace_id: str | None = None

    @classmethod
    def parse(
        cls,
        method: str | None,
        params: Any,
        principal: Principal,
        era: str = "",
        request_id: Any = None,
        traceparent: str | None = None,
    ) -> Call | None:
        """The call a request makes, or None when it is not a (well-formed) tool/resource/prompt call.

        `traceparent` is the HTTP header's; a `traceparent` in the call's `_meta` wins over it.
        """
        target = target_of(method, params)
        if target is None:
            return None
        kind, name = target
        arguments = params.get("arguments") if kind != "resource" else None
        meta = params.get("_meta")
        in_meta = meta.get("traceparent") if isinstance(meta, Mapping) else None
        traceparent = in_meta if isinstance(in_meta, str) else traceparent
        return cls(method, kind, name, arguments, principal, era, request_id, trace_id_from(traceparent))  # type: ignore[arg-type]

    @property
    def tool(self) -> str | None:
        return self.name if self.kind == "tool" else None

    @property
    def stateless(self) -> bool:
        """True on the 2026-07-28 era (no session), False on the handshake era."""
        return bool(self.era) and self.era not in HANDSHAKE_PROTOCOL_VERSIONS


ToolCall = Call
"""The name DESIGN.md uses; resources and prompts are calls too."""
