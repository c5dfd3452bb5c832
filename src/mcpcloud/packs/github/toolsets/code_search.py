"""Toolset `code_search`: GitHub code search, confined to the repositories in the lockdown."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mcpcloud.packs import PackContext
from mcpcloud.packs.github import trim
from mcpcloud.packs.github.toolbox import READ, Cursor, ListPage, Toolbox


def register(ctx: PackContext, box: Toolbox) -> None:
    @ctx.tool(title="Search code", annotations=READ)
    async def github_search_code(
        query: Annotated[
            str, Field(min_length=1, description="GitHub code search syntax, e.g. 'parse_config language:python'.")
        ],
        cursor: Cursor = None,
    ) -> ListPage:
        """Files whose contents match, with the matching fragments, in the allowed repositories only."""
        return await box.search(
            "github_search_code",
            query,
            cursor,
            box.rest.search.async_code,
            lambda item: (item.get("repository") or {}).get("full_name", ""),
            trim.code_hit,
            headers={"Accept": "application/vnd.github.text-match+json"},  # the matching fragments
        )
