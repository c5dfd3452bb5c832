"""Toolset `issues`: list, read and search issues; create issues and comments when writes are on."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from githubkit.utils import UNSET
from pydantic import Field

from mcpcloud.packs import PackContext
from mcpcloud.packs.github import trim
from mcpcloud.packs.github.toolbox import READ, WRITE, Cursor, ListPage, Repo, Toolbox

Number = Annotated[int, Field(ge=1, description="Issue or pull request number.")]
Body = Annotated[str, Field(min_length=1, max_length=65_536, description="Markdown text.")]


def register(ctx: PackContext, box: Toolbox) -> None:
    limit = box.settings.max_text_chars

    @ctx.tool(title="List issues", annotations=READ)
    async def github_list_issues(
        repo: Repo,
        state: Literal["open", "closed", "all"] = "open",
        labels: Annotated[list[str] | None, Field(description="Only issues carrying all these labels.")] = None,
        cursor: Cursor = None,
    ) -> ListPage:
        """Issues (and pull requests, flagged is_pull_request) of a repository, most recent first."""
        owner, name = box.lockdown.check(repo)
        label_csv = ",".join(labels) if labels else UNSET
        return await box.listing(
            "github_list_issues",
            {"repo": repo, "state": state, "labels": labels},
            cursor,
            lambda page, per_page: (
                lambda h: box.rest.issues.async_list_for_repo(
                    owner, name, state=state, labels=label_csv, per_page=per_page, page=page, headers=h
                )
            ),
            lambda data: [trim.issue(i, limit) for i in data],
        )

    @ctx.tool(title="Get an issue", annotations=READ)
    async def github_get_issue(repo: Repo, number: Number) -> dict[str, Any]:
        """One issue or pull request conversation: title, state, labels, body."""
        owner, name = box.lockdown.check(repo)
        data = await box.get(
            f"issue:{owner}/{name}#{number}", lambda h: box.rest.issues.async_get(owner, name, number, headers=h)
        )
        return trim.issue(data, limit)

    @ctx.tool(title="List issue comments", annotations=READ)
    async def github_list_issue_comments(repo: Repo, number: Number, cursor: Cursor = None) -> ListPage:
        """Comments on an issue or pull request, oldest first."""
        owner, name = box.lockdown.check(repo)
        return await box.listing(
            "github_list_issue_comments",
            {"repo": repo, "number": number},
            cursor,
            lambda page, per_page: (
                lambda h: box.rest.issues.async_list_comments(
                    owner, name, number, per_page=per_page, page=page, headers=h
                )
            ),
            lambda data: [trim.comment(c, limit) for c in data],
        )

    @ctx.tool(title="Search issues", annotations=READ)
    async def github_search_issues(
        query: Annotated[
            str, Field(min_length=1, description="GitHub issue search syntax, e.g. 'is:open label:bug crash'.")
        ],
        cursor: Cursor = None,
    ) -> ListPage:
        """Search issues and pull requests, limited to the repositories in the lockdown."""
        return await box.search(
            "github_search_issues",
            query,
            cursor,
            box.rest.search.async_issues_and_pull_requests,
            lambda item: trim.repo_of_url(item.get("repository_url", "")),
            lambda item: trim.issue(item, limit),
        )

    if not box.settings.allow_writes:
        return

    @ctx.tool(title="Create an issue", annotations=WRITE)
    async def github_create_issue(
        repo: Repo,
        title: Annotated[str, Field(min_length=1, max_length=256)],
        body: Annotated[str | None, Field(max_length=65_536, description="Markdown text.")] = None,
        labels: list[str] | None = None,
    ) -> dict[str, Any]:
        """Open a new issue in a repository."""
        owner, name = box.lockdown.check(repo)
        data = await box.gateway.write(
            lambda h: box.rest.issues.async_create(
                owner, name, title=title, body=body if body is not None else UNSET, labels=labels or UNSET, headers=h
            )
        )
        return trim.issue(data, limit)

    @ctx.tool(title="Comment on an issue or pull request", annotations=WRITE)
    async def github_add_issue_comment(repo: Repo, number: Number, body: Body) -> dict[str, Any]:
        """Add a comment to an issue or pull request."""
        owner, name = box.lockdown.check(repo)
        data = await box.gateway.write(
            lambda h: box.rest.issues.async_create_comment(owner, name, number, body=body, headers=h)
        )
        return trim.comment(data, limit)
