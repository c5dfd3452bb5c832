"""`[pack.github]`: the GitHub credentials, the enabled toolsets and the repositories in bounds."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from mcpcloud.config import Section

Toolset = Literal["repos", "issues", "pull_requests", "actions", "code_search"]
ALL_TOOLSETS: tuple[Toolset, ...] = ("repos", "issues", "pull_requests", "actions", "code_search")

# owner/name, owner/* or */* ; GitHub owners and names are letters, digits, '-', '_' and '.'.
REPO_PATTERN = re.compile(r"^(\*|[A-Za-z0-9][A-Za-z0-9-]{0,38})/(\*|[A-Za-z0-9._-]{1,100})$")


class GithubSettings(Section):
    base_url: str = Field(
        "https://api.github.com", description="REST API root; `https://HOST/api/v3` for GitHub Enterprise Server."
    )
    token: SecretStr | None = Field(None, description="A personal access or bot token (or `token_file`).")
    app_id: int | None = Field(None, description="GitHub App id, with `private_key` and `installation_id`.")
    private_key: SecretStr | None = Field(None, description="The GitHub App's PEM private key (or `private_key_file`).")
    installation_id: int | None = Field(None, description="The App installation whose tokens the tools use.")
    repos: list[str] = Field(
        default_factory=list,
        description='Repositories every tool is limited to: "org/name", "org/*"; "*/*" allows all the credentials reach.',
    )
    toolsets: list[Toolset] = Field(
        default_factory=lambda: ["repos", "issues", "pull_requests"],
        description=f"Toolsets to enable, any of {', '.join(ALL_TOOLSETS)}.",
    )
    allow_writes: bool = Field(False, description="Offer the write tools (create issue, comment, open PR, re-run).")
    per_page: int = Field(30, ge=1, le=100, description="Items per page of list and search tools.")
    max_text_chars: int = Field(4000, ge=100, description="Longest issue/PR body or comment returned; longer is cut.")
    max_file_bytes: int = Field(100_000, ge=1000, description="Largest file content returned by get_file_contents.")
    timeout_seconds: float = Field(30.0, gt=0, description="Longest wait for one GitHub request.")
    etag_cache_entries: int = Field(2000, ge=0, description="Responses kept for conditional requests (0: none).")

    @field_validator("repos")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if not REPO_PATTERN.match(pattern) or pattern.startswith("*/") and pattern != "*/*":
                raise ValueError(f'{pattern!r} is not "owner/name", "owner/*" or "*/*"')
        return value

    @model_validator(mode="after")
    def _credentials_and_bounds(self) -> GithubSettings:
        app = (self.app_id, self.private_key, self.installation_id)
        if self.token is not None and any(v is not None for v in app):
            raise ValueError("give either token or app_id + private_key + installation_id, not both")
        if self.token is None and not all(v is not None for v in app):
            raise ValueError(
                "credentials missing: set token (or token_file), or app_id + private_key_file + installation_id"
            )
        if not self.repos:
            raise ValueError('repos is required: the repositories the tools may touch, e.g. repos = ["myorg/*"]')
        if not self.toolsets:
            raise ValueError(f"toolsets is empty: enable at least one of {', '.join(ALL_TOOLSETS)}")
        return self
