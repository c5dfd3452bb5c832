"""GitHub objects cut down to what a model needs: a repository is ~6 KB of JSON, mostly URLs.

Each function keeps the fields a person would read, and long texts are cut with a note
saying how much was left out, so no tool answers with a megabyte of JSON.
"""

from __future__ import annotations

from typing import Any


def text(value: str | None, limit: int) -> str | None:
    if value is None or len(value) <= limit:
        return value
    return value[:limit] + f"\n… [cut: {len(value) - limit} more characters]"


def _login(user: dict[str, Any] | None) -> str | None:
    return user.get("login") if isinstance(user, dict) else None


def _pick(obj: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: obj.get(k) for k in keys if obj.get(k) is not None}


def repository(repo: dict[str, Any]) -> dict[str, Any]:
    out = _pick(
        repo,
        "full_name",
        "description",
        "private",
        "visibility",
        "default_branch",
        "language",
        "topics",
        "stargazers_count",
        "forks_count",
        "open_issues_count",
        "archived",
        "html_url",
        "pushed_at",
    )
    out["owner"] = _login(repo.get("owner"))
    return out


def issue(item: dict[str, Any], limit: int) -> dict[str, Any]:
    out = _pick(
        item,
        "number",
        "title",
        "state",
        "state_reason",
        "comments",
        "created_at",
        "updated_at",
        "closed_at",
        "html_url",
    )
    out["author"] = _login(item.get("user"))
    out["labels"] = [label.get("name") if isinstance(label, dict) else label for label in item.get("labels") or []]
    out["assignees"] = [_login(a) for a in item.get("assignees") or []]
    out["is_pull_request"] = "pull_request" in item
    out["body"] = text(item.get("body"), limit)
    repository_url = item.get("repository_url")
    if repository_url:
        out["repo"] = repo_of_url(repository_url)
    return out


def comment(item: dict[str, Any], limit: int) -> dict[str, Any]:
    out = _pick(item, "id", "created_at", "updated_at", "html_url")
    out["author"] = _login(item.get("user"))
    out["body"] = text(item.get("body"), limit)
    return out


def pull_request(item: dict[str, Any], limit: int) -> dict[str, Any]:
    out = _pick(
        item,
        "number",
        "title",
        "state",
        "draft",
        "merged",
        "mergeable",
        "comments",
        "commits",
        "additions",
        "deletions",
        "changed_files",
        "created_at",
        "updated_at",
        "merged_at",
        "html_url",
    )
    out["author"] = _login(item.get("user"))
    out["head"] = (item.get("head") or {}).get("ref")
    out["base"] = (item.get("base") or {}).get("ref")
    out["body"] = text(item.get("body"), limit)
    return out


def pull_file(item: dict[str, Any], limit: int) -> dict[str, Any]:
    out = _pick(item, "filename", "status", "additions", "deletions", "changes")
    out["patch"] = text(item.get("patch"), limit)
    return out


def commit(item: dict[str, Any]) -> dict[str, Any]:
    details = item.get("commit") or {}
    message = details.get("message") or ""
    return {
        "sha": item.get("sha"),
        "message": message.split("\n", 1)[0],
        "author": _login(item.get("author")) or (details.get("author") or {}).get("name"),
        "date": (details.get("author") or {}).get("date"),
        "html_url": item.get("html_url"),
    }


def branch(item: dict[str, Any]) -> dict[str, Any]:
    return {"name": item.get("name"), "sha": (item.get("commit") or {}).get("sha"), "protected": item.get("protected")}


def workflow_run(item: dict[str, Any]) -> dict[str, Any]:
    out = _pick(
        item,
        "id",
        "name",
        "display_title",
        "event",
        "status",
        "conclusion",
        "head_branch",
        "head_sha",
        "run_number",
        "run_attempt",
        "created_at",
        "updated_at",
        "html_url",
    )
    out["actor"] = _login(item.get("actor"))
    return out


def code_hit(item: dict[str, Any]) -> dict[str, Any]:
    out = _pick(item, "name", "path", "sha", "html_url")
    out["repo"] = (item.get("repository") or {}).get("full_name")
    fragments = [m.get("fragment") for m in item.get("text_matches") or [] if isinstance(m, dict)]
    if fragments:
        out["fragments"] = fragments
    return out


def repo_of_url(url: str) -> str:
    """`owner/name` of an API URL such as https://api.github.com/repos/owner/name."""
    parts = url.rstrip("/").split("/")
    return "/".join(parts[-2:])
