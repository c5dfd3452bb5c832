"""Toolset `repos`: repository facts, file contents, commits and branches (read-only)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from githubkit.utils import UNSET
from pydantic import Field

from mcpcloud.packs import PackContext
from mcpcloud.packs.github import trim
from mcpcloud.packs.github.toolbox import READ, Cursor, ListPage, Repo, Toolbox

Ref = Annotated[str | None, Field(description="Branch, tag or commit SHA; the default branch when omitted.")]


def register(ctx: PackContext, box: Toolbox) -> None:
    @ctx.tool(title="Get a repository", annotations=READ)
    async def github_get_repository(repo: Repo) -> dict[str, Any]:
        """Description, visibility, default branch, language, stars and open issue count of a repository."""
        owner, name = box.lockdown.check(repo)
        data = await box.get(f"repo:{owner}/{name}", lambda h: box.rest.repos.async_get(owner, name, headers=h))
        return trim.repository(data)

    @ctx.tool(title="Get file contents", annotations=READ)
    async def github_get_file_contents(
        repo: Repo,
        path: Annotated[str, Field(description="File or directory path in the repository; '' for the root.")] = "",
        ref: Ref = None,
    ) -> dict[str, Any]:
        """A file's text (cut at max_file_bytes), or a directory's entries."""
        owner, name = box.lockdown.check(repo)
        url_path = box.lockdown.file_path(path)
        key = f"contents:{owner}/{name}:{ref}:{url_path}"
        data = await box.get(
            key, lambda h: box.rest.repos.async_get_content(owner, name, url_path, ref=ref or UNSET, headers=h)
        )
        if isinstance(data, list):
            entries = [
                {"name": e.get("name"), "path": e.get("path"), "type": e.get("type"), "size": e.get("size")}
                for e in data
            ]
            return {"repo": repo, "path": path.strip("/"), "type": "dir", "entries": entries}
        return _file(data, repo, box.settings.max_file_bytes)

    @ctx.tool(title="List commits", annotations=READ)
    async def github_list_commits(
        repo: Repo,
        ref: Ref = None,
        path: Annotated[str | None, Field(description="Only commits touching this path.")] = None,
        cursor: Cursor = None,
    ) -> ListPage:
        """Commits newest first: SHA, first line of the message, author, date."""
        owner, name = box.lockdown.check(repo)
        args = {"repo": repo, "ref": ref, "path": path}
        return await box.listing(
            "github_list_commits",
            args,
            cursor,
            lambda page, per_page: (
                lambda h: box.rest.repos.async_list_commits(
                    owner, name, sha=ref or UNSET, path=path or UNSET, per_page=per_page, page=page, headers=h
                )
            ),
            lambda data: [trim.commit(c) for c in data],
        )

    @ctx.tool(title="List branches", annotations=READ)
    async def github_list_branches(repo: Repo, cursor: Cursor = None) -> ListPage:
        """Branches with their head SHA and whether they are protected."""
        owner, name = box.lockdown.check(repo)
        return await box.listing(
            "github_list_branches",
            {"repo": repo},
            cursor,
            lambda page, per_page: (
                lambda h: box.rest.repos.async_list_branches(owner, name, per_page=per_page, page=page, headers=h)
            ),
            lambda data: [trim.branch(b) for b in data],
        )


def _file(data: dict[str, Any], repo: str, max_bytes: int) -> dict[str, Any]:
    out: dict[str, Any] = {"repo": repo, "path": data.get("path"), "type": data.get("type"), "size": data.get("size")}
    if data.get("type") != "file":
        return out
    out["sha"] = data.get("sha")
    if data.get("encoding") != "base64":  # GitHub sends no content for files over 1 MB ("encoding": "none")
        out["note"] = f"GitHub does not send the content of a file this large ({data.get('size')} bytes) here"
        return out
    try:
        raw = base64.b64decode(data.get("content") or "")
        raw.decode("utf-8")
    except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError: not text
        out["binary"] = True
        return out
    out["content"] = raw[:max_bytes].decode("utf-8", errors="ignore")  # a cut may split a character: drop it
    if len(raw) > max_bytes:
        out["truncated"] = f"first {max_bytes} of {len(raw)} bytes"
    return out
