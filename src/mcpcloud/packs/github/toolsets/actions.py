"""Toolset `actions`: workflow runs of a repository; re-run one when writes are on."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from githubkit.utils import UNSET
from pydantic import Field

from mcpcloud.packs import PackContext
from mcpcloud.packs.github import trim
from mcpcloud.packs.github.toolbox import READ, WRITE, Cursor, ListPage, Repo, Toolbox

RunId = Annotated[int, Field(ge=1, description="Workflow run id (from github_list_workflow_runs).")]
RunStatus = Literal["queued", "in_progress", "completed", "success", "failure", "cancelled"]


def register(ctx: PackContext, box: Toolbox) -> None:
    @ctx.tool(title="List workflow runs", annotations=READ)
    async def github_list_workflow_runs(
        repo: Repo,
        branch: str | None = None,
        status: RunStatus | None = None,
        cursor: Cursor = None,
    ) -> ListPage:
        """GitHub Actions runs, newest first: workflow, event, status, conclusion, branch and commit."""
        owner, name = box.lockdown.check(repo)
        return await box.listing(
            "github_list_workflow_runs",
            {"repo": repo, "branch": branch, "status": status},
            cursor,
            lambda page, per_page: (
                lambda h: box.rest.actions.async_list_workflow_runs_for_repo(
                    owner, name, branch=branch or UNSET, status=status or UNSET, per_page=per_page, page=page, headers=h
                )
            ),
            lambda data: [trim.workflow_run(r) for r in data.get("workflow_runs", [])],
        )

    @ctx.tool(title="Get a workflow run", annotations=READ)
    async def github_get_workflow_run(repo: Repo, run_id: RunId) -> dict[str, Any]:
        """One workflow run's status and conclusion."""
        owner, name = box.lockdown.check(repo)
        data = await box.get(
            f"run:{owner}/{name}:{run_id}",
            lambda h: box.rest.actions.async_get_workflow_run(owner, name, run_id, headers=h),
        )
        return trim.workflow_run(data)

    if not box.settings.allow_writes:
        return

    @ctx.tool(title="Re-run a workflow run", annotations=WRITE)
    async def github_rerun_workflow_run(repo: Repo, run_id: RunId) -> dict[str, Any]:
        """Start a workflow run again (all its jobs)."""
        owner, name = box.lockdown.check(repo)
        await box.gateway.write(lambda h: box.rest.actions.async_re_run_workflow(owner, name, run_id, headers=h))
        return {"repo": repo, "run_id": run_id, "rerun": "requested"}
