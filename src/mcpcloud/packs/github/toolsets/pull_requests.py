"""Toolset `pull_requests`: list and read pull requests and their files; open one when writes are on."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from githubkit.utils import UNSET
from pydantic import Field

from mcpcloud.packs import PackContext
from mcpcloud.packs.github import trim
from mcpcloud.packs.github.toolbox import READ, WRITE, Cursor, ListPage, Repo, Toolbox

Number = Annotated[int, Field(ge=1, description="Pull request number.")]


def register(ctx: PackContext, box: Toolbox) -> None:
    limit = box.settings.max_text_chars

    @ctx.tool(title="List pull requests", annotations=READ)
    async def github_list_pull_requests(
        repo: Repo, state: Literal["open", "closed", "all"] = "open", cursor: Cursor = None
    ) -> ListPage:
        """Pull requests of a repository, newest first."""
        owner, name = box.lockdown.check(repo)
        return await box.listing(
            "github_list_pull_requests",
            {"repo": repo, "state": state},
            cursor,
            lambda page, per_page: (
                lambda h: box.rest.pulls.async_list(owner, name, state=state, per_page=per_page, page=page, headers=h)
            ),
            lambda data: [trim.pull_request(p, limit) for p in data],
        )

    @ctx.tool(title="Get a pull request", annotations=READ)
    async def github_get_pull_request(repo: Repo, number: Number) -> dict[str, Any]:
        """One pull request: branches, state, mergeability, size of the change, body."""
        owner, name = box.lockdown.check(repo)
        data = await box.get(
            f"pull:{owner}/{name}#{number}", lambda h: box.rest.pulls.async_get(owner, name, number, headers=h)
        )
        return trim.pull_request(data, limit)

    @ctx.tool(title="List pull request files", annotations=READ)
    async def github_list_pull_request_files(repo: Repo, number: Number, cursor: Cursor = None) -> ListPage:
        """Files a pull request changes, with their patches (cut at max_text_chars)."""
        owner, name = box.lockdown.check(repo)
        return await box.listing(
            "github_list_pull_request_files",
            {"repo": repo, "number": number},
            cursor,
            lambda page, per_page: (
                lambda h: box.rest.pulls.async_list_files(owner, name, number, per_page=per_page, page=page, headers=h)
            ),
            lambda data: [trim.pull_file(f, limit) for f in data],
        )

    if not box.settings.allow_writes:
        return

    @ctx.tool(title="Open a pull request", annotations=WRITE)
    async def github_create_pull_request(
        repo: Repo,
        title: Annotated[str, Field(min_length=1, max_length=256)],
        head: Annotated[str, Field(description="The branch with the changes (same repository).")],
        base: Annotated[str, Field(description="The branch to merge into.")],
        body: Annotated[str | None, Field(max_length=65_536)] = None,
        draft: bool = False,
    ) -> dict[str, Any]:
        """Open a pull request from `head` into `base` in the same repository."""
        owner, name = box.lockdown.check(repo)
        if ":" in head:
            # owner:branch would take the change from another (possibly out-of-bounds) fork
            box.lockdown.check(f"{head.split(':', 1)[0]}/{name}")
        data = await box.gateway.write(
            lambda h: box.rest.pulls.async_create(
                owner,
                name,
                title=title,
                head=head,
                base=base,
                body=body if body is not None else UNSET,
                draft=draft,
                headers=h,
            )
        )
        return trim.pull_request(data, limit)
