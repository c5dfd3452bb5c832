"""The GitHub test server answers in GitHub's own shapes: githubkit parses every answer the pack
uses with its models generated from GitHub's OpenAPI description (required fields, types).
"""

from __future__ import annotations

from typing import Any

from github_wire import GitHubWire
from githubkit import GitHub
from scenarios import GITHUB_TOKEN


async def test_every_endpoint_the_pack_uses_parses_with_githubs_models(github_wire: GitHubWire) -> None:
    gh: GitHub[Any] = GitHub(GITHUB_TOKEN, base_url=github_wire.base_url + "/", auto_retry=False, http_cache=False)
    rest = gh.rest
    owner, name = "acme", "site"
    calls = [
        rest.repos.async_get(owner, name),
        rest.repos.async_get_content(owner, name, "README.md"),
        rest.repos.async_get_content(owner, name, "src"),
        rest.repos.async_list_commits(owner, name),
        rest.repos.async_list_branches(owner, name),
        rest.issues.async_list_for_repo(owner, name, state="all"),
        rest.issues.async_get(owner, name, 46),
        rest.issues.async_list_comments(owner, name, 46),
        rest.search.async_issues_and_pull_requests(q="bug repo:acme/site"),
        rest.pulls.async_list(owner, name),
        rest.pulls.async_get(owner, name, 47),
        rest.pulls.async_list_files(owner, name, 47),
        rest.actions.async_list_workflow_runs_for_repo(owner, name),
        rest.actions.async_get_workflow_run(owner, name, 9001),
        rest.search.async_code(q="parse_config repo:acme/site"),
        rest.issues.async_create(owner, name, title="Shape check", body="body"),
        rest.issues.async_create_comment(owner, name, 46, body="comment"),
        rest.pulls.async_create(owner, name, title="Shape", head="feature/login", base="main"),
    ]
    for call in calls:
        response = await call
        assert response.parsed_data is not None, response
    async with gh:
        runs = await rest.actions.async_list_workflow_runs_for_repo(owner, name)
        assert runs.parsed_data.total_count == 2
