"""The `github` pack: repositories, issues, pull requests, Actions and code search on githubkit.

Safe by default, like the sql pack: read-only unless `allow_writes = true` (write tools need
`github:write` and are annotated destructive); every tool is limited to the repositories in
`repos` (lockdown.py), search included; toolsets are enabled one by one. Rate limits become
tool errors with the retry time; reads are conditional requests (ETag) answered from the
pack's response store on 304; responses are trimmed (trim.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import import_module

from mcpcloud.packs import PackContext
from mcpcloud.packs.github.gateway import Gateway
from mcpcloud.packs.github.lockdown import Lockdown
from mcpcloud.packs.github.settings import GithubSettings
from mcpcloud.packs.github.toolbox import Toolbox

name = "github"
description = "GitHub repositories, issues, pull requests, Actions and code search, locked to configured repositories."
Settings = GithubSettings


def register(ctx: PackContext) -> None:
    settings: GithubSettings = ctx.settings
    box = Toolbox(settings, Gateway(settings), Lockdown(tuple(settings.repos)))

    @asynccontextmanager
    async def client_open() -> AsyncIterator[None]:
        # one pooled HTTP client for the server's life, instead of one per request
        async with box.gateway.client:
            yield

    ctx.lifespan(client_open)
    for toolset in dict.fromkeys(settings.toolsets):
        import_module(f"mcpcloud.packs.github.toolsets.{toolset}").register(ctx, box)
