"""What every GitHub toolset shares: the gateway, the lockdown, the limits and the list shape."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from githubkit import GitHub
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from mcpcloud.packs.cursors import decode_cursor, encode_cursor, query_digest
from mcpcloud.packs.github.gateway import Call, Gateway
from mcpcloud.packs.github.lockdown import Lockdown
from mcpcloud.packs.github.settings import GithubSettings

READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
# Every GitHub write is seen by other people (issues, comments, pull requests, CI runs): it changes
# shared state, so it is annotated destructive and goes through approval where that is configured.
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True)

Repo = Annotated[str, Field(description="Repository as 'owner/name'; must be inside the server's repository lockdown.")]
Cursor = Annotated[str | None, Field(description="next_cursor of the previous page, for the next one.")]


class ListPage(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None = Field(None, description="Pass it back as `cursor` for more; null on the last page.")


@dataclass
class Toolbox:
    settings: GithubSettings
    gateway: Gateway
    lockdown: Lockdown

    @property
    def rest(self) -> Any:
        client: GitHub[Any] = self.gateway.client
        return client.rest

    async def get(self, key: str, call: Call) -> Any:
        return (await self.gateway.read(key, call)).data

    async def listing(
        self,
        tool: str,
        arguments: dict[str, Any],
        cursor: str | None,
        fetch: Callable[[int, int], Call],
        shape: Callable[[Any], list[dict[str, Any]]],
    ) -> ListPage:
        """One page of a list endpoint: `fetch(page, per_page)` makes the call, `shape` trims the body."""
        digest = query_digest(tool, arguments)
        page_number = int(decode_cursor(cursor, digest) or 1)
        per_page = self.settings.per_page
        page = await self.gateway.read(f"{tool}:{digest}:{page_number}:{per_page}", fetch(page_number, per_page))
        return ListPage(items=shape(page.data), next_cursor=encode_cursor(page.next_page, digest))

    async def search(
        self,
        tool: str,
        query: str,
        cursor: str | None,
        endpoint: Callable[..., Awaitable[Any]],
        repo_of: Callable[[dict[str, Any]], str],
        shape: Callable[[dict[str, Any]], dict[str, Any]],
        headers: dict[str, str] | None = None,
    ) -> ListPage:
        """A search held inside the lockdown twice: the query is bounded, and results elsewhere are dropped."""
        q = self.lockdown.search_query(query)
        return await self.listing(
            tool,
            {"query": query},
            cursor,
            lambda page, per_page: (
                lambda h: endpoint(q=q, per_page=per_page, page=page, headers={**(headers or {}), **h})
            ),
            lambda data: [shape(item) for item in data.get("items", []) if self.lockdown.allows(repo_of(item))],
        )
