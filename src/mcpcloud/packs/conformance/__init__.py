"""The `conformance` pack: the fixtures the official MCP conformance suite expects. Off by default.

The suite (npm `@modelcontextprotocol/conformance`) drives a server through scenarios that
call tools, resources and prompts with fixed names (`test_simple_text`,
`test://static-text`, `test_prompt_with_arguments`, ...) and check what comes back. This
pack offers exactly those, served through mcpcloud's real server, HTTP layer and message
pipeline, so the suite judges the production request path, not a demo server.

One module per kind of fixture:

- `content`: tools returning each content type, resources, prompts, completions;
- `interactive`: the handshake-era (<= 2025-11-25) server-to-client round trips
  (logging, progress, sampling, elicitation) and `logging/setLevel` / resource subscriptions;
- `input_required`: the 2026-07-28 multi-round-trip tools (`InputRequiredResult`);
- `diagnostics`: the hooks the stateless-server scenario probes with.

Never enable it in production: its tools exist to be poked at.
"""

from __future__ import annotations

from pydantic import BaseModel

from mcpcloud.packs import PackContext
from mcpcloud.packs.conformance import content, diagnostics, input_required, interactive

name = "conformance"
description = "Fixture tools, resources and prompts for the official MCP conformance suite (testing only)."


class Settings(BaseModel):
    model_config = {"extra": "forbid"}


def register(ctx: PackContext) -> None:
    content.register(ctx)
    interactive.register(ctx)
    input_required.register(ctx)
    diagnostics.register(ctx)
