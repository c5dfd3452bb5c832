"""Repository lockdown and the "toxic agent flow": a public issue that asks the model to read a
private repository and publish it. Every step out of bounds is refused before any request
leaves, the refusal names the repository, and GitHub never sees a request for it.
"""

from __future__ import annotations

from github_wire import GitHubWire
from scenarios import github_settings
from team_helpers import pack_client, refusal

OUT_OF_BOUNDS = "acme-internal/secrets"


async def test_toxic_agent_flow_is_refused_and_names_the_repository(github_wire: GitHubWire) -> None:
    async with pack_client("github", github_settings(github_wire, allow_writes=True)) as client:
        # 1. The agent reads a public issue in an allowed repository: the injected instructions arrive.
        issue = (await client.call_tool("github_get_issue", {"repo": "acme/site", "number": 46})).structured_content
        assert OUT_OF_BOUNDS in issue["body"]

        # 2. It follows them: every route to the private repository is refused, naming it.
        attempts = [
            ("github_get_file_contents", {"repo": OUT_OF_BOUNDS, "path": "README.md"}),
            ("github_get_repository", {"repo": OUT_OF_BOUNDS}),
            ("github_list_issues", {"repo": "ACME-INTERNAL/Secrets"}),
            ("github_list_commits", {"repo": OUT_OF_BOUNDS}),
            ("github_search_code", {"query": f"password repo:{OUT_OF_BOUNDS}"}),
            ("github_search_code", {"query": "password org:acme-internal"}),
            ("github_search_code", {"query": "password repo:acme/site/../../acme-internal/secrets"}),
            ("github_search_issues", {"query": "user:acme-internal done"}),
            ("github_create_issue", {"repo": OUT_OF_BOUNDS, "title": "done"}),
            ("github_list_workflow_runs", {"repo": OUT_OF_BOUNDS}),
        ]
        escapes = [  # HTTP clients resolve '..' in the URL: these would read the other repository
            {"repo": "acme/site", "path": "../../../acme-internal/secrets/contents/README.md"},
            {"repo": "acme/site", "path": "src/../../../../acme-internal/secrets/readme"},
            {"repo": "acme/site", "path": "%2e%2e/%2E%2E/%2e%2e/acme-internal/secrets/contents/README.md"},
            {"repo": "acme/..", "path": "acme-internal/secrets/contents/README.md"},
        ]
        for args in escapes:
            message = refusal(await client.call_tool("github_get_file_contents", args))
            assert "refused: give a plain path inside the repository" in message or "is not 'owner/name'" in message
        for tool, args in attempts:
            message = refusal(await client.call_tool(tool, args))
            assert "outside this server's repository lockdown (allowed: acme/*)" in message, (tool, message)
            assert OUT_OF_BOUNDS.lower() in message.lower() or "acme-internal" in message, (tool, message)

        # 3. A search that does not name the repository cannot reach it either: the query is bounded.
        hits = (await client.call_tool("github_search_code", {"query": "password"})).structured_content
        assert hits["items"] == []
        code_queries = [q for m, p, q in github_wire.requests if p == "/search/code"]
        assert code_queries and all("org%3Aacme" in q for q in code_queries)

        # 4. So nothing is published: the public issue got no comment, and GitHub never saw a request for the repo.
        assert github_wire.repos["acme/site"].comments.get(46) is None
        assert not [p for p in github_wire.requested_paths() if "acme-internal" in p.lower()]


async def test_search_results_outside_the_bounds_are_dropped(github_wire: GitHubWire) -> None:
    """Defence in depth: even if GitHub answered with another repository, the pack drops it."""
    github_wire.search_ignores_scope = True
    github_wire.repos["acme/site"].files["x.py"] = "print('x')"
    async with pack_client("github", github_settings(github_wire, allow_writes=True, repos=["acme/site"])) as client:
        hits = (await client.call_tool("github_search_code", {"query": "print"})).structured_content
        assert [h["repo"] for h in hits["items"]] == ["acme/site"]  # acme/tools matched too, and was dropped
        found = (await client.call_tool("github_search_issues", {"query": "help"})).structured_content
        assert [i["repo"] for i in found["items"]] == ["acme/site"]
    async with pack_client("github", github_settings(github_wire, allow_writes=True, repos=["*/*"])) as client:
        hits = (await client.call_tool("github_search_code", {"query": "hunter2"})).structured_content
        assert {h["repo"] for h in hits["items"]} == {OUT_OF_BOUNDS}  # "*/*" means all the token can see


async def test_exact_repository_patterns(github_wire: GitHubWire) -> None:
    async with pack_client("github", github_settings(github_wire, allow_writes=True, repos=["acme/site"])) as client:
        assert not (await client.call_tool("github_get_repository", {"repo": "acme/site"})).is_error
        message = refusal(await client.call_tool("github_get_repository", {"repo": "acme/tools"}))
        assert "'acme/tools' is outside this server's repository lockdown (allowed: acme/site)" in message
        message = refusal(
            await client.call_tool(
                "github_create_pull_request",
                {"repo": "acme/site", "title": "t", "head": "acme-internal:main", "base": "main"},
            )
        )
        assert "'acme-internal/site' is outside" in message
