"""`[pack.sql]`: the named databases and the limits every query runs under."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from mcpcloud.config import Section


class DatabaseSettings(Section):
    url: str = Field(
        description="`sqlite:///relative/path.db`, `sqlite:////absolute/path.db` or `postgresql://user@host:5432/db`."
    )
    password: SecretStr | None = Field(
        None, description="PostgreSQL password (or `password_file`), kept out of the URL."
    )
    allow_writes: bool = Field(False, description="Offer this database to the `execute` tool (scope sql:write).")
    statement_timeout_seconds: float = Field(5.0, gt=0, le=3600, description="Longest any one statement may run.")
    max_rows: int = Field(
        200, gt=0, le=100_000, description="Rows per page of `query`; the rest through `next_cursor`."
    )
    max_result_bytes: int = Field(1_000_000, gt=0, description="Largest JSON size of one page of rows.")
    pool_min_size: int = Field(1, ge=0, description="PostgreSQL: connections kept open.")
    pool_max_size: int = Field(10, gt=0, description="PostgreSQL: most connections at once.")
    pool_timeout_seconds: float = Field(10.0, gt=0, description="PostgreSQL: longest wait for a free connection.")
    connect_timeout_seconds: float = Field(5.0, gt=0, description="PostgreSQL: longest wait to connect.")
    allowed_functions: list[str] = Field(
        default_factory=list,
        description="Functions `query` may call besides the built-in allow-list (lower case; `schema.name` for "
        "a function outside pg_catalog). Add only functions you know change nothing.",
    )

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme == "sqlite" and not value.startswith("sqlite:///"):
            raise ValueError("a SQLite URL is sqlite:///relative/path.db or sqlite:////absolute/path.db")
        if scheme not in ("sqlite", "postgresql", "postgres"):
            raise ValueError(f"unsupported scheme {scheme!r}: use sqlite:/// or postgresql://")
        if scheme != "sqlite" and (urlsplit(value).password or _query_password(value)):
            raise ValueError("put the password in `password` or `password_file`, not in the URL")
        return value

    @model_validator(mode="after")
    def _pool_sizes(self) -> DatabaseSettings:
        if self.pool_min_size > self.pool_max_size:
            raise ValueError("pool_min_size must not exceed pool_max_size")
        return self

    @property
    def extra_functions(self) -> frozenset[str]:
        return frozenset(name.lower() for name in self.allowed_functions)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite:")

    @property
    def sqlite_path(self) -> str:
        return self.url.removeprefix("sqlite:///")


def _query_password(url: str) -> bool:
    """libpq also takes `?password=` (and `passfile`-less variants) in the query string."""
    return any(key.lower() == "password" for key in parse_qs(urlsplit(url).query, keep_blank_values=True))


class SqlSettings(Section):
    databases: dict[str, DatabaseSettings] = Field(
        default_factory=dict, description="Name -> database; tools take the name (optional when there is one)."
    )
    schema_cache_seconds: float = Field(
        30.0, ge=0, description="How long list_tables/describe_table results are cached (0: not cached)."
    )

    @model_validator(mode="after")
    def _at_least_one(self) -> SqlSettings:
        if not self.databases:
            raise ValueError(
                'databases: configure at least one, e.g. [pack.sql.databases.main] url = "sqlite:///app.db"'
            )
        return self
