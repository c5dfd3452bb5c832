"""The github pack against a local server speaking GitHub's REST wire format, through githubkit."""

from __future__ import annotations

from github_wire import GitHubWire
from scenarios import GITHUB_TOKEN, github_settings
from team_helpers import pack_client, refusal


async def test_reads_are_trimmed_and_lists_page_by_cursor(github_wire: GitHubWire) -> None:
    async with pack_client("github", github_settings(github_wire, per_page=20)) as client:
        repo = (await client.call_tool("github_get_repository", {"repo": "acme/site"})).structured_content
        assert repo["full_name"] == "acme/site" and repo["owner"] == "acme" and repo["default_branch"] == "main"
        assert "issues_url" not in repo and "permissions" not in repo  # URLs and noise trimmed

        seen, cursor, cursors = [], None, []
        while True:
            args = {"repo": "acme/site", "state": "all"} | ({"cursor": cursor} if cursor else {})
            page = (await client.call_tool("github_list_issues", args)).structured_content
            seen += [i["number"] for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
            cursors.append(cursor)
        assert len(cursors) == 2 and sorted(seen) == list(range(1, 47))
        long_one = (await client.call_tool("github_get_issue", {"repo": "acme/site", "number": 7})).structured_content
        assert len(long_one["body"]) < 4100 and long_one["body"].endswith("[cut: 5000 more characters]")

        other = {"repo": "acme/site", "state": "open", "cursor": cursors[0]}
        assert "cursor belongs to a different query" in refusal(await client.call_tool("github_list_issues", other))
        assert "not one this tool returned" in refusal(
            await client.call_tool("github_list_issues", {"repo": "acme/site", "cursor": "garbage!"})
        )

        readme = await client.call_tool("github_get_file_contents", {"repo": "acme/site", "path": "README.md"})
        assert readme.structured_content["content"] == "# Site\nThe public web site.\n"
        root = (await client.call_tool("github_get_file_contents", {"repo": "acme/site"})).structured_content
        assert {e["name"]: e["type"] for e in root["entries"]} == {"README.md": "file", "src": "dir"}
        github_wire.repos["acme/site"].files["docs/a b#1?.md"] = "odd name"
        odd = await client.call_tool("github_get_file_contents", {"repo": "acme/site", "path": "/docs/a b#1?.md"})
        assert odd.structured_content["content"] == "odd name" and odd.structured_content["path"] == "docs/a b#1?.md"
        private = await client.call_tool("github_get_file_contents", {"repo": "acme/tools", "path": "tool.py"})
        assert private.structured_content["content"] == "print('tools')\n"

        prs = (await client.call_tool("github_list_pull_requests", {"repo": "acme/site"})).structured_content
        assert [(p["number"], p["head"], p["base"]) for p in prs["items"]] == [(47, "feature/login", "main")]
        files = await client.call_tool("github_list_pull_request_files", {"repo": "acme/site", "number": 47})
        assert files.structured_content["items"][0]["filename"] == "src/login.py"
        runs = await client.call_tool("github_list_workflow_runs", {"repo": "acme/site", "branch": "main"})
        assert [(r["id"], r["conclusion"]) for r in runs.structured_content["items"]] == [(9001, "failure")]
        commits = (await client.call_tool("github_list_commits", {"repo": "acme/site"})).structured_content
        assert commits["items"][0]["message"] == "change 0" and commits["items"][0]["author"] == "ann"
        hits = (await client.call_tool("github_search_code", {"query": "parse_config"})).structured_content
        assert [(h["repo"], h["path"]) for h in hits["items"]] == [("acme/site", "src/app.py")]


async def test_conditional_requests_answer_from_the_etag_store(github_wire: GitHubWire) -> None:
    async with pack_client("github", github_settings(github_wire)) as client:
        first = await client.call_tool("github_get_issue", {"repo": "acme/site", "number": 3})
        used = github_wire.used[GITHUB_TOKEN]
        second = await client.call_tool("github_get_issue", {"repo": "acme/site", "number": 3})
        assert second.structured_content == first.structured_content
        assert github_wire.used[GITHUB_TOKEN] == used  # the 304 cost nothing
        assert [p for p in github_wire.requested_paths() if p.endswith("/issues/3")] == [
            "/repos/acme/site/issues/3"
        ] * 2

        github_wire.repos["acme/site"].issues[2]["title"] = "Renamed"  # the resource changes: new ETag, new body
        third = await client.call_tool("github_get_issue", {"repo": "acme/site", "number": 3})
        assert third.structured_content["title"] == "Renamed"


async def test_rate_limit_is_a_clear_error_with_the_retry_time(github_wire: GitHubWire) -> None:
    async with pack_client("github", github_settings(github_wire)) as client:
        github_wire.rate_limit = 2
        await client.call_tool("github_get_repository", {"repo": "acme/site"})
        await client.call_tool("github_get_repository", {"repo": "acme/tools"})
        message = refusal(await client.call_tool("github_list_branches", {"repo": "acme/site"}))
        assert "GitHub primary rate limit exceeded (0 of 2 core requests left, resets at" in message
        assert "retry in " in message and " s" in message
        seconds = int(message.rsplit("retry in ", 1)[1].split(" s")[0])
        assert 3500 <= seconds <= 3600
        github_wire.rate_limit = 5000  # the budget comes back: the server is healthy, the next call works
        assert not (await client.call_tool("github_list_branches", {"repo": "acme/site"})).is_error
        github_wire.secondary_retry_after = 60
        message = refusal(await client.call_tool("github_list_branches", {"repo": "acme/site"}))
        assert message.endswith(
            "GitHub secondary rate limit exceeded (too many requests in a short time): retry in 60 s"
        )


async def test_github_errors_name_the_problem_and_never_the_token(github_wire: GitHubWire) -> None:
    async with pack_client("github", github_settings(github_wire)) as client:
        message = refusal(await client.call_tool("github_get_issue", {"repo": "acme/site", "number": 999}))
        assert message.endswith(
            ": GitHub answered 404 for /repos/acme/site/issues/999: Not Found (not found, or not visible to these credentials)"
        )
        assert "not 'owner/name'" in refusal(await client.call_tool("github_get_repository", {"repo": "just-a-name"}))
    async with pack_client("github", github_settings(github_wire, token="ghp_wrong_secret_value")) as client:
        message = refusal(await client.call_tool("github_get_repository", {"repo": "acme/site"}))
        assert "401" in message and "Bad credentials" in message and "ghp_wrong_secret_value" not in message


async def test_file_contents_are_cut_and_binary_or_huge_files_described(github_wire: GitHubWire) -> None:
    files = github_wire.repos["acme/site"].files
    files["big.txt"] = "é" * 60_000  # 120,000 bytes of two-byte characters
    files["logo.png"] = b"\x89PNG\r\n\x1a\n\x00\xff"
    files["dump.sql"] = "x" * 1_200_000
    async with pack_client("github", github_settings(github_wire, max_file_bytes=99_999)) as client:
        big = (
            await client.call_tool("github_get_file_contents", {"repo": "acme/site", "path": "big.txt"})
        ).structured_content
        assert big["content"] == "é" * 49_999 and big["truncated"] == "first 99999 of 120000 bytes"
        logo = (
            await client.call_tool("github_get_file_contents", {"repo": "acme/site", "path": "logo.png"})
        ).structured_content
        assert logo["binary"] is True and "content" not in logo and logo["size"] == 10
        dump = (
            await client.call_tool("github_get_file_contents", {"repo": "acme/site", "path": "dump.sql"})
        ).structured_content
        assert dump["note"] == "GitHub does not send the content of a file this large (1200000 bytes) here"
