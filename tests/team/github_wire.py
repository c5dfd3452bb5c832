"""A local server speaking GitHub's REST wire format for the endpoints the github pack uses.

What it does as GitHub does (docs.github.com/rest, the OpenAPI description):
- `Authorization: token <t>`; unknown tokens get 401 `{"message": "Bad credentials", ...}`;
  GitHub App installation tokens are minted at POST /app/installations/{id}/access_tokens
  for an RS256 JWT whose `iss` is the app id, verified with the app's public key, and expire;
- every answer carries `X-RateLimit-Limit/Remaining/Used/Reset/Resource`; a spent budget gets
  403 "API rate limit exceeded" with `x-ratelimit-remaining: 0`;
- list endpoints page with `page`/`per_page` and a `Link` header (next, last, prev, first);
- GETs carry an `ETag`; a matching `If-None-Match` gets 304 with no body, not counted against
  the budget; a private repository is 404 to a token that cannot see it;
- search takes `q` with `repo:`, `org:`, `user:` qualifiers (several repo/org qualifiers: any).
`requests` records (method, path, query) of every request, for tests to see what was asked.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

import jwt
from github_shapes import complete
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DOCS = "https://docs.github.com/rest"


@dataclass
class RepoData:
    owner: str
    name: str
    private: bool = False
    files: dict[str, str | bytes] = field(default_factory=dict)
    issues: list[dict[str, Any]] = field(default_factory=list)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    pulls: list[dict[str, Any]] = field(default_factory=list)
    pull_files: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)
    commits: list[dict[str, Any]] = field(default_factory=list)
    branches: list[str] = field(default_factory=lambda: ["main"])

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class GitHubWire:
    """The server's state; tests change it directly (budgets, tokens, repositories)."""

    tokens: dict[str, set[str]] = field(default_factory=dict)
    """token -> full names of the private repositories it can see (public ones: all)."""
    repos: dict[str, RepoData] = field(default_factory=dict)
    app_id: int | None = None
    app_public_key: str | None = None
    installation_id: int | None = None
    installation_repos: set[str] = field(default_factory=set)
    installation_token_seconds: int = 3600
    minted: list[tuple[str, float]] = field(default_factory=list)
    rate_limit: int = 5000
    used: dict[str, int] = field(default_factory=dict)
    reset_at: int = field(default_factory=lambda: int(time.time()) + 3600)
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    secondary_retry_after: int | None = None
    """When set, answer every request with a secondary rate limit (403 + Retry-After)."""
    search_ignores_scope: bool = False
    """Answer searches from every visible repository, as a query with OR or NOT can make GitHub do."""
    base_url: str = ""
    _next_id: int = 1000

    def add_repo(self, full_name: str, *, private: bool = False, **data: Any) -> RepoData:
        owner, name = full_name.split("/")
        repo = self.repos[full_name.lower()] = RepoData(owner, name, private, **data)
        return repo

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def requested_paths(self) -> list[str]:
        return [path for _, path, _ in self.requests]


def error(status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, "documentation_url": DOCS, **extra}, status, headers=headers)


def make_app(wire: GitHubWire) -> Starlette:
    def api(path: str) -> str:
        return f"{wire.base_url}{path}"

    def user(login: str) -> dict[str, Any]:
        return complete(
            "SimpleUser",
            {
                "login": login,
                "id": abs(hash(login)) % 10**6,
                "node_id": "U_" + login,
                "type": "User",
                "url": api(f"/users/{login}"),
                "html_url": f"https://github.com/{login}",
                "site_admin": False,
            },
        )

    def repo_json(repo: RepoData) -> dict[str, Any]:
        full = repo.full_name
        return complete(
            "FullRepository",
            {
                "id": abs(hash(full)) % 10**8,
                "node_id": "R_" + full,
                "name": repo.name,
                "full_name": full,
                "private": repo.private,
                "visibility": "private" if repo.private else "public",
                "owner": user(repo.owner),
                "html_url": f"https://github.com/{full}",
                "description": f"The {repo.name} repository",
                "fork": False,
                "url": api(f"/repos/{full}"),
                "issues_url": api(f"/repos/{full}/issues{{/number}}"),
                "pulls_url": api(f"/repos/{full}/pulls{{/number}}"),
                "default_branch": "main",
                "language": "Python",
                "topics": ["demo"],
                "stargazers_count": 42,
                "watchers_count": 42,
                "forks_count": 3,
                "open_issues_count": len([i for i in repo.issues if i.get("state", "open") == "open"]),
                "archived": False,
                "disabled": False,
                "created_at": "2024-01-02T03:04:05Z",
                "updated_at": "2026-11-01T00:00:00Z",
                "pushed_at": "2026-11-29T12:00:00Z",
                "size": 1234,
                "has_issues": True,
                "permissions": {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True},
            },
        )

    def caller(request: Request) -> tuple[str | None, JSONResponse | None]:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("token", "bearer") or token not in wire.tokens:
            return None, error(401, "Bad credentials")
        expiry = dict(wire.minted).get(token)
        if expiry is not None and expiry < time.time():
            return None, error(401, "Bad credentials")
        return token, None

    def visible(token: str, full_name: str) -> RepoData | None:
        repo = wire.repos.get(full_name.lower())
        if repo is None or (repo.private and full_name.lower() not in {r.lower() for r in wire.tokens[token]}):
            return None
        return repo

    def limit_headers(token: str) -> dict[str, str]:
        used = wire.used.get(token, 0)
        return {
            "x-ratelimit-limit": str(wire.rate_limit),
            "x-ratelimit-remaining": str(max(0, wire.rate_limit - used)),
            "x-ratelimit-used": str(used),
            "x-ratelimit-reset": str(wire.reset_at),
            "x-ratelimit-resource": "core",
            "x-github-api-version-selected": "2022-11-28",
            "x-github-request-id": f"{len(wire.requests):08X}",
        }

    def respond(request: Request, token: str, body: Any, status: int = 200, link: str | None = None) -> Response:
        headers = limit_headers(token)
        if link:
            headers["link"] = link
        payload = json.dumps(body).encode()
        if request.method == "GET":
            etag = 'W/"' + hashlib.sha256(payload).hexdigest()[:32] + '"'
            headers["etag"] = etag
            if request.headers.get("if-none-match") == etag:
                wire.used[token] -= 1  # GitHub does not charge a conditional hit
                headers.update(limit_headers(token))
                return Response(status_code=304, headers=headers)
        return Response(payload, status, headers=headers, media_type="application/json; charset=utf-8")

    def paged(request: Request, token: str, items: list[Any], wrap: Any = None) -> Response:
        per_page = min(int(request.query_params.get("per_page", 30)), 100)
        page = int(request.query_params.get("page", 1))
        last = max(1, math.ceil(len(items) / per_page))
        chunk = items[(page - 1) * per_page : page * per_page]

        def link_to(n: int) -> str:
            query = dict(request.query_params) | {"page": str(n), "per_page": str(per_page)}
            return f"<{wire.base_url}{request.url.path}?{urlencode(query)}>"

        rels = []
        if page < last:
            rels += [f'{link_to(page + 1)}; rel="next"', f'{link_to(last)}; rel="last"']
        if page > 1:
            rels += [f'{link_to(page - 1)}; rel="prev"', f'{link_to(1)}; rel="first"']
        body = wrap(chunk) if wrap else chunk
        return respond(request, token, body, link=", ".join(rels) or None)

    def issue_json(repo: RepoData, issue: dict[str, Any]) -> dict[str, Any]:
        full, number = repo.full_name, issue["number"]
        out = {
            "id": issue.get("id", number),
            "node_id": f"I_{number}",
            "number": number,
            "title": issue["title"],
            "body": issue.get("body"),
            "state": issue.get("state", "open"),
            "state_reason": None,
            "locked": False,
            "user": user(issue.get("author", "octocat")),
            "labels": [{"id": 1, "name": n, "color": "ededed", "default": False} for n in issue.get("labels", [])],
            "assignees": [],
            "assignee": None,
            "milestone": None,
            "comments": len(repo.comments.get(number, [])),
            "created_at": "2026-11-20T10:00:00Z",
            "updated_at": "2026-11-21T10:00:00Z",
            "closed_at": None,
            "author_association": "NONE",
            "url": api(f"/repos/{full}/issues/{number}"),
            "repository_url": api(f"/repos/{full}"),
            "html_url": f"https://github.com/{full}/issues/{number}",
            "comments_url": api(f"/repos/{full}/issues/{number}/comments"),
            "events_url": api(f"/repos/{full}/issues/{number}/events"),
            "labels_url": api(f"/repos/{full}/issues/{number}/labels{{/name}}"),
        }
        if issue.get("pull_request"):
            out["pull_request"] = {"url": api(f"/repos/{full}/pulls/{number}")}
        return complete("Issue", out)

    def comment_json(repo: RepoData, number: int, c: dict[str, Any]) -> dict[str, Any]:
        return complete(
            "IssueComment",
            {
                "id": c["id"],
                "node_id": f"IC_{c['id']}",
                "body": c["body"],
                "user": user(c.get("author", "octocat")),
                "created_at": "2026-11-22T10:00:00Z",
                "updated_at": "2026-11-22T10:00:00Z",
                "author_association": "NONE",
                "url": api(f"/repos/{repo.full_name}/issues/comments/{c['id']}"),
                "html_url": f"https://github.com/{repo.full_name}/issues/{number}#issuecomment-{c['id']}",
                "issue_url": api(f"/repos/{repo.full_name}/issues/{number}"),
            },
        )

    def pull_json(repo: RepoData, pr: dict[str, Any]) -> dict[str, Any]:
        number = pr["number"]
        return complete(
            "PullRequest",
            {
                "id": number * 7,
                "node_id": f"PR_{number}",
                "number": number,
                "title": pr["title"],
                "body": pr.get("body"),
                "state": pr.get("state", "open"),
                "draft": pr.get("draft", False),
                "locked": False,
                "user": user("octocat"),
                "head": {
                    "ref": pr["head"],
                    "sha": "a" * 40,
                    "label": f"{repo.owner}:{pr['head']}",
                    "repo": repo_json(repo),
                },
                "base": {
                    "ref": pr["base"],
                    "sha": "b" * 40,
                    "label": f"{repo.owner}:{pr['base']}",
                    "repo": repo_json(repo),
                },
                "merged": False,
                "mergeable": True,
                "comments": 0,
                "commits": 1,
                "additions": 10,
                "deletions": 2,
                "changed_files": len(repo.pull_files.get(number, [])),
                "created_at": "2026-11-25T10:00:00Z",
                "updated_at": "2026-11-25T11:00:00Z",
                "merged_at": None,
                "html_url": f"https://github.com/{repo.full_name}/pull/{number}",
                "url": api(f"/repos/{repo.full_name}/pulls/{number}"),
            },
        )

    def run_json(repo: RepoData, run: dict[str, Any]) -> dict[str, Any]:
        return complete(
            "WorkflowRun",
            {
                "id": run["id"],
                "name": run.get("name", "CI"),
                "display_title": run.get("title", "CI"),
                "event": "push",
                "status": run.get("status", "completed"),
                "conclusion": run.get("conclusion", "success"),
                "head_branch": run.get("branch", "main"),
                "head_sha": "c" * 40,
                "run_number": run["id"] % 100,
                "run_attempt": run.get("attempt", 1),
                "actor": user("octocat"),
                "workflow_id": 1,
                "created_at": "2026-11-28T10:00:00Z",
                "updated_at": "2026-11-28T10:05:00Z",
                "html_url": f"https://github.com/{repo.full_name}/actions/runs/{run['id']}",
                "url": api(f"/repos/{repo.full_name}/actions/runs/{run['id']}"),
                "repository": repo_json(repo),
            },
        )

    async def handle(request: Request) -> Response:
        path = unquote(request.scope["raw_path"].decode())  # GitHub decodes %2F, %23, %3F in paths too
        wire.requests.append((request.method, path, request.url.query))
        if path.startswith("/app/installations/") and request.method == "POST":
            return mint_installation_token(request)
        token, refusal = caller(request)
        if refusal is not None or token is None:
            return refusal  # type: ignore[return-value]
        wire.used[token] = wire.used.get(token, 0) + 1
        if wire.secondary_retry_after is not None:
            headers = limit_headers(token) | {"retry-after": str(wire.secondary_retry_after)}
            return error(
                403,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                headers,
            )
        if wire.used[token] > wire.rate_limit:
            wire.used[token] = wire.rate_limit
            return error(
                403,
                f"API rate limit exceeded for installation ID {wire.installation_id or 1}. "
                "If you reach out to GitHub Support for help, please include the request ID.",
                limit_headers(token),
            )
        parts = path.strip("/").split("/")
        if parts[0] == "rate_limit":
            core = {
                "limit": wire.rate_limit,
                "remaining": wire.rate_limit - wire.used[token],
                "reset": wire.reset_at,
                "used": wire.used[token],
            }
            return respond(request, token, {"resources": {"core": core}, "rate": core})
        if parts[0] == "search":
            return search(request, token, parts[1])
        if parts[0] != "repos" or len(parts) < 3:
            return error(404, "Not Found")
        repo = visible(token, f"{parts[1]}/{parts[2]}")
        if repo is None:
            return error(404, "Not Found")
        return route_repo(request, token, repo, parts[3:])

    def route_repo(request: Request, token: str, repo: RepoData, rest: list[str]) -> Response:
        q = request.query_params
        if not rest:
            return respond(request, token, repo_json(repo))
        kind = rest[0]
        if kind == "contents":
            return contents(request, token, repo, "/".join(rest[1:]))
        if kind == "commits":
            return paged(request, token, [complete("Commit", c) for c in repo.commits])
        if kind == "branches":
            return paged(
                request,
                token,
                [
                    complete("ShortBranch", {"name": b, "commit": {"sha": "d" * 40}, "protected": b == "main"})
                    for b in repo.branches
                ],
            )
        if kind == "issues":
            return issues(request, token, repo, rest[1:])
        if kind == "pulls":
            return pulls(request, token, repo, rest[1:])
        if kind == "actions" and rest[1:2] == ["runs"]:
            if len(rest) == 2:
                runs = [r for r in repo.runs if not q.get("branch") or r.get("branch", "main") == q["branch"]]
                return paged(
                    request,
                    token,
                    [run_json(repo, r) for r in runs],
                    wrap=lambda chunk: complete(
                        "ReposOwnerRepoActionsRunsGetResponse200", {"total_count": len(runs), "workflow_runs": chunk}
                    ),
                )
            run = next((r for r in repo.runs if str(r["id"]) == rest[2]), None)
            if run is None:
                return error(404, "Not Found")
            if rest[3:] == ["rerun"] and request.method == "POST":
                run["attempt"] = run.get("attempt", 1) + 1
                return respond(request, token, {}, 201)
            return respond(request, token, run_json(repo, run))
        return error(404, "Not Found")

    def contents(request: Request, token: str, repo: RepoData, path: str) -> Response:
        if path in repo.files:
            stored = repo.files[path]
            raw = stored if isinstance(stored, bytes) else stored.encode()
            encoded = base64.encodebytes(raw).decode()  # GitHub wraps base64 at 60 columns
            sha = hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()
            return respond(
                request,
                token,
                complete(
                    "ContentFile",
                    {
                        "type": "file",
                        "encoding": "base64" if len(raw) <= 1_000_000 else "none",  # no content over 1 MB
                        "size": len(raw),
                        "name": path.rsplit("/", 1)[-1],
                        "path": path,
                        "content": encoded if len(raw) <= 1_000_000 else "",
                        "sha": sha,
                        "url": f"{wire.base_url}/repos/{repo.full_name}/contents/{path}",
                        "html_url": f"https://github.com/{repo.full_name}/blob/main/{path}",
                        "download_url": f"https://raw.githubusercontent.com/{repo.full_name}/main/{path}",
                        "_links": {"self": "", "git": "", "html": ""},
                    },
                ),
            )
        prefix = path + "/" if path else ""
        children = sorted({p[len(prefix) :].split("/")[0] for p in repo.files if p.startswith(prefix)})
        if not children:
            return error(404, "Not Found")
        entries = [
            complete(
                "ContentDirectoryItems",
                {
                    "type": "file" if prefix + c in repo.files else "dir",
                    "name": c,
                    "path": prefix + c,
                    "size": len(repo.files.get(prefix + c, "")),
                    "sha": "e" * 40,
                },
            )
            for c in children
        ]
        return respond(request, token, entries)

    def issues(request: Request, token: str, repo: RepoData, rest: list[str]) -> Response:
        q = request.query_params
        if not rest:
            if request.method == "POST":
                return create_issue(request, token, repo)
            state = q.get("state", "open")
            wanted = [x for x in q.get("labels", "").split(",") if x]
            found = [
                i
                for i in reversed(repo.issues)
                if state in ("all", i.get("state", "open")) and all(w in i.get("labels", []) for w in wanted)
            ]
            return paged(request, token, [issue_json(repo, i) for i in found])
        issue = next((i for i in repo.issues if str(i["number"]) == rest[0]), None)
        if issue is None:
            return error(404, "Not Found")
        if rest[1:] == ["comments"]:
            if request.method == "POST":
                return create_comment(request, token, repo, issue["number"])
            return paged(
                request, token, [comment_json(repo, issue["number"], c) for c in repo.comments.get(issue["number"], [])]
            )
        return respond(request, token, issue_json(repo, issue))

    def pulls(request: Request, token: str, repo: RepoData, rest: list[str]) -> Response:
        if not rest:
            if request.method == "POST":
                return create_pull(request, token, repo)
            state = request.query_params.get("state", "open")
            return paged(
                request,
                token,
                [pull_json(repo, p) for p in reversed(repo.pulls) if state in ("all", p.get("state", "open"))],
            )
        pr = next((p for p in repo.pulls if str(p["number"]) == rest[0]), None)
        if pr is None:
            return error(404, "Not Found")
        if rest[1:] == ["files"]:
            return paged(request, token, [complete("DiffEntry", f) for f in repo.pull_files.get(pr["number"], [])])
        return respond(request, token, pull_json(repo, pr))

    def body_of(request: Request) -> dict[str, Any]:
        return json.loads(request.state.body or b"{}")

    def create_issue(request: Request, token: str, repo: RepoData) -> Response:
        data = body_of(request)
        if not data.get("title"):
            return error(
                422, "Validation Failed", errors=[{"resource": "Issue", "field": "title", "code": "missing_field"}]
            )
        number = max([i["number"] for i in repo.issues] + [p["number"] for p in repo.pulls] + [0]) + 1
        issue = {
            "number": number,
            "title": data["title"],
            "body": data.get("body"),
            "labels": data.get("labels", []),
            "author": "mcpcloud-bot",
        }
        repo.issues.append(issue)
        return respond(request, token, issue_json(repo, issue), 201)

    def create_comment(request: Request, token: str, repo: RepoData, number: int) -> Response:
        data = body_of(request)
        if not data.get("body"):
            return error(
                422,
                "Validation Failed",
                errors=[{"resource": "IssueComment", "field": "body", "code": "missing_field"}],
            )
        c = {"id": wire.new_id(), "body": data["body"], "author": "mcpcloud-bot"}
        repo.comments.setdefault(number, []).append(c)
        return respond(request, token, comment_json(repo, number, c), 201)

    def create_pull(request: Request, token: str, repo: RepoData) -> Response:
        data = body_of(request)
        if data.get("head") not in repo.branches:
            return error(
                422, "Validation Failed", errors=[{"resource": "PullRequest", "field": "head", "code": "invalid"}]
            )
        number = max([i["number"] for i in repo.issues] + [p["number"] for p in repo.pulls] + [0]) + 1
        pr = {
            "number": number,
            "title": data["title"],
            "body": data.get("body"),
            "head": data["head"],
            "base": data["base"],
            "draft": data.get("draft", False),
        }
        repo.pulls.append(pr)
        return respond(request, token, pull_json(repo, pr), 201)

    def search(request: Request, token: str, kind: str) -> Response:
        q = request.query_params.get("q", "")
        if not q.strip():
            return error(422, "Validation Failed", errors=[{"resource": "Search", "field": "q", "code": "missing"}])
        repos_wanted, owners_wanted, terms = set(), set(), []
        for word in q.split():
            key, _, value = word.partition(":")
            if key.lower() == "repo" and value:
                repos_wanted.add(value.lower())
            elif key.lower() in ("org", "user") and value:
                owners_wanted.add(value.lower())
            elif ":" not in word:
                terms.append(word.lower())

        def in_scope(repo: RepoData) -> bool:
            if wire.search_ignores_scope or not repos_wanted and not owners_wanted:
                return True
            return repo.full_name.lower() in repos_wanted or repo.owner.lower() in owners_wanted

        searchable = [r for r in wire.repos.values() if visible(token, r.full_name) and in_scope(r)]
        if kind == "code":
            items = [
                complete(
                    "CodeSearchResultItem",
                    {
                        "name": path.rsplit("/", 1)[-1],
                        "path": path,
                        "sha": "f" * 40,
                        "score": 1.0,
                        "url": api(f"/repos/{r.full_name}/contents/{path}"),
                        "html_url": f"https://github.com/{r.full_name}/blob/main/{path}",
                        "repository": repo_json(r),
                        "text_matches": [{"fragment": text[:200], "property": "content", "object_type": "FileContent"}],
                    },
                )
                for r in searchable
                for path, text in sorted(r.files.items())
                if isinstance(text, str) and all(t in text.lower() for t in terms)  # binary files are not indexed
            ]
        else:
            items = [
                complete("IssueSearchResultItem", issue_json(r, i) | {"score": 1.0})
                for r in searchable
                for i in r.issues
                if all(t in (i["title"] + " " + (i.get("body") or "")).lower() for t in terms)
            ]
        return paged(
            request,
            token,
            items,
            wrap=lambda chunk: complete(
                "SearchCodeGetResponse200" if kind == "code" else "SearchIssuesGetResponse200",
                {"total_count": len(items), "incomplete_results": False, "items": chunk},
            ),
        )

    def mint_installation_token(request: Request) -> Response:
        installation = request.url.path.split("/")[3]
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or wire.app_public_key is None:
            return error(401, "A JSON web token could not be decoded")
        try:
            claims = jwt.decode(
                token, wire.app_public_key, algorithms=["RS256"], options={"require": ["iat", "exp", "iss"]}
            )
        except jwt.PyJWTError as exc:
            return error(401, f"A JSON web token could not be decoded ({type(exc).__name__})")
        if str(claims["iss"]) != str(wire.app_id):
            return error(401, "'Issuer' claim ('iss') must be an Integer")
        if installation != str(wire.installation_id):
            return error(404, "Not Found")
        minted = f"ghs_{len(wire.minted):04d}{hashlib.sha256(str(time.time()).encode()).hexdigest()[:32]}"
        expires = time.time() + wire.installation_token_seconds
        wire.minted.append((minted, expires))
        wire.tokens[minted] = set(wire.installation_repos)
        return JSONResponse(
            {
                "token": minted,
                "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)),
                "permissions": {"issues": "write", "contents": "read", "pull_requests": "write", "actions": "write"},
                "repository_selection": "selected",
            },
            201,
        )

    async def entry(request: Request) -> Response:
        request.state.body = await request.body()
        return await handle(request)

    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", entry, methods=methods)])
