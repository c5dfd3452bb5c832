"""One settings tree for the whole program.

Precedence, highest first: explicit values (CLI flags), environment (`MCPCLOUD_*`, nested
sections with `__`, e.g. `MCPCLOUD_HTTP__MAX_BODY_BYTES`), the TOML file (`--config` or
`MCPCLOUD_CONFIG`), then defaults.

Secrets are `SecretStr` fields. Any of them can instead be given as `<name>_file`: a path
whose content is read at load time (how Kubernetes mounts Secrets). They are never printed:
`redacted()` is what `mcpcloud config` shows.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from mcpcloud.errors import ConfigError

ENV_PREFIX = "MCPCLOUD_"
REDACTED = "**********"


class Section(BaseModel):
    """Base of every settings section: unknown keys are errors, secrets may come from files."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return read_secret_files(cls, data)
        return data


def read_secret_files(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """Replace `<field>_file: PATH` with `<field>: <content of PATH>` for the model's secret fields."""
    secret_fields = {name for name, f in model.model_fields.items() if _is_secret(f.annotation)}
    out = dict(data)
    for name in secret_fields:
        path = out.pop(f"{name}_file", None)
        if path is None:
            continue
        try:
            out[name] = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ValueError(f"{name}_file: cannot read {path!r}: {exc.strerror or exc}") from None
    return out


def read_secret_files_deep(model: type[BaseModel], data: Any, prefix: str = "") -> Any:
    """`read_secret_files` for any model (a pack's own `Settings`) and every model nested in it.

    Problems become a `ConfigError` naming the full key, e.g. `pack.tickets.token_file: cannot read ...`.
    """
    if not isinstance(data, dict):
        return data
    try:
        out = read_secret_files(model, data)
    except ValueError as exc:
        raise ConfigError(f"{prefix}{exc}") from None
    for name, info in model.model_fields.items():
        if name in out:
            out[name] = _nested_secret_files(info.annotation, out[name], f"{prefix}{name}.")
    return out


def _nested_secret_files(annotation: Any, value: Any, prefix: str) -> Any:
    origin, args = get_origin(annotation), get_args(annotation)
    if _is_model(annotation):
        return read_secret_files_deep(annotation, value, prefix)
    if origin is dict and len(args) == 2 and isinstance(value, dict):
        return {k: _nested_secret_files(args[1], v, f"{prefix}{k}.") for k, v in value.items()}
    if origin is list and args and isinstance(value, list):
        return [_nested_secret_files(args[0], v, f"{prefix}{i}.") for i, v in enumerate(value)]
    models = [a for a in args if _is_model(a)]  # Optional[Model], unions
    return read_secret_files_deep(models[0], value, prefix) if len(models) == 1 else value


def decode_json_values(model: type[BaseModel], data: Any) -> Any:
    """Decode JSON text given for a list, dict or model field of a pack's settings (and nested models).

    Pack sections reach us as plain strings from the environment (`MCPCLOUD_PACK__GITHUB__REPOS='["acme/*"]'`),
    because `pack` is an open dict to pydantic-settings; its own top-level fields get this decoding already.
    Text that is not JSON is left alone, so the pack's validation names the field and the problem.
    """
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for name, info in model.model_fields.items():
        value = out.get(name)
        if isinstance(value, str) and value.lstrip()[:1] in ("[", "{") and _is_structured(info.annotation):
            try:
                out[name] = json.loads(value)
            except ValueError:
                continue
        nested = [a for a in (info.annotation, *get_args(info.annotation)) if _is_model(a)]
        if len(nested) == 1 and isinstance(out.get(name), dict):
            out[name] = decode_json_values(nested[0], out[name])
    return out


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_structured(annotation: Any) -> bool:
    kinds = (annotation, *get_args(annotation))
    return any(
        _is_model(a) or get_origin(a) in (list, dict, set, tuple) or a in (list, dict, set, tuple) for a in kinds
    )


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or SecretStr in getattr(annotation, "__args__", ())


class HTTPSettings(Section):
    path: str = Field("/mcp", description="Path of the MCP endpoint.")
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host header values accepted on the MCP endpoint (`name:*` allows any port). "
        "Empty: loopback names only when bound to loopback, any host otherwise.",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Browser Origins accepted (`http://name:*` allows any port). Requests without an "
        "Origin header (non-browser clients) always pass; a foreign Origin gets 403.",
    )
    max_body_bytes: int = Field(4 * 1024 * 1024, gt=0, description="Largest accepted request body (413 beyond).")
    shutdown_grace_seconds: float = Field(
        25.0, ge=0, description="After SIGTERM, how long in-flight requests may take before the process exits."
    )
    public_url: str | None = Field(None, description="The URL clients use to reach /mcp, if not http://host:port/mcp.")
    fast_path: bool = Field(
        True,
        description="Answer stateless 2026-07-28 tools/call, tools/list and server/discover in front of the SDK's "
        "per-request machinery (same answers, same policies; docs/ARCHITECTURE.md). false: every request goes to the SDK.",
    )
    body_timeout_seconds: float = Field(
        30.0, gt=0, le=3600, description="Longest a request body may take to arrive; then 408, connection closed."
    )
    workers: int = Field(
        1, ge=1, le=64, description="Server processes on the one port (`--workers`); more than 1 needs redis.url."
    )

    @field_validator("path")
    @classmethod
    def _path_is_absolute(cls, value: str) -> str:
        if not value.startswith("/") or value in ("/healthz", "/readyz", "/metrics"):
            raise ValueError("must start with '/' and not be one of /healthz, /readyz, /metrics")
        return value


class LogSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    format: Literal["auto", "json", "console"] = Field(
        "auto", description="`auto`: readable on a terminal, JSON lines otherwise."
    )

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


def _problem(message: str) -> PydanticCustomError:
    """A validation error whose message is shown as is (no "Value error, " prefix)."""
    return PydanticCustomError("mcpcloud_setting", message)


class ApiKeySettings(Section):
    store: Literal["file", "redis"] = Field(
        "file", description="Where API keys (hashes and metadata only) are kept: a JSON file or Redis."
    )
    file: str = Field(
        "mcpcloud-keys.json",
        description="The key file for store=file (can be mounted read-only from a Kubernetes Secret).",
    )


class OAuthSettings(Section):
    issuer: str | None = Field(None, description="The authorization server's issuer URL (the `iss` claim).")
    jwks_url: str | None = Field(None, description="JWKS URL; discovered from the issuer's metadata when not given.")
    audience: str | None = Field(
        None,
        description="The audience tokens must carry; default: this server's MCP URL (RFC 8707). Set it only for "
        "IdPs that cannot issue that audience (Entra ID v2 puts the application id there).",
    )
    algorithms: list[str] = Field(
        default_factory=lambda: ["RS256", "PS256", "ES256", "ES384", "EdDSA"],
        description="Accepted JWT signature algorithms (asymmetric only).",
    )
    leeway_seconds: float = Field(30.0, ge=0, le=300, description="Clock skew tolerated on exp/nbf/iat.")
    jwks_cache_seconds: float = Field(300.0, ge=0, description="How long fetched keys are trusted before a refetch.")
    jwks_min_refresh_seconds: float = Field(
        30.0, ge=0, description="At most one JWKS refetch per this many seconds for unknown key ids."
    )
    scopes_supported: list[str] = Field(
        default_factory=list,
        description="Scopes advertised in the protected resource metadata (default: all tool scopes).",
    )
    introspection_url: str | None = Field(None, description="RFC 7662 endpoint for opaque (non-JWT) tokens.")
    introspection_client_id: str | None = None
    introspection_client_secret: SecretStr | None = None

    @field_validator("algorithms")
    @classmethod
    def _asymmetric_only(cls, value: list[str]) -> list[str]:
        allowed = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
        bad = [alg for alg in value if alg not in allowed]
        if bad or not value:
            raise _problem(f"only asymmetric algorithms are accepted ({', '.join(sorted(allowed))})")
        return value


class PrincipalRule(Section):
    allow_tools: list[str] | None = Field(None, description="If set, only these tools (glob patterns) may be called.")
    deny_tools: list[str] = Field(
        default_factory=list, description="Tools (glob patterns) this principal may not call."
    )


class AuthSettings(Section):
    modes: Annotated[list[Literal["none", "api_keys", "oauth"]], NoDecode] = Field(
        default_factory=lambda: ["none"],
        description="How HTTP callers authenticate: none (loopback only), api_keys, oauth (comma-separated in env).",
    )
    api_keys: ApiKeySettings = Field(default_factory=ApiKeySettings)
    oauth: OAuthSettings = Field(default_factory=OAuthSettings)
    local_principal: str = Field("local", description="The principal stdio runs as.")
    local_scopes: list[str] = Field(
        default_factory=lambda: ["*"], description="Scopes of the stdio principal (`*`: every scope)."
    )
    tool_scopes: dict[str, list[str]] = Field(
        default_factory=dict, description="Per-tool override of the scopes a tool needs: `{tool = [scopes]}`."
    )
    principals: dict[str, PrincipalRule] = Field(
        default_factory=dict,
        description="Allow/deny tools per principal id (`key:<id>`, `sub:<subject>`, `client:<client id>`, `local:<name>`).",
    )

    @field_validator("modes", mode="before")
    @classmethod
    def _split_modes(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _modes_consistent(self) -> AuthSettings:
        if not self.modes:
            raise _problem("modes is empty: give none, or one or both of api_keys and oauth")
        if "none" in self.modes and len(self.modes) > 1:
            raise _problem("modes: 'none' cannot be combined with api_keys or oauth")
        if "oauth" in self.modes and not self.oauth.issuer:
            raise _problem("oauth.issuer is required when modes includes oauth")
        return self

    @property
    def enabled(self) -> bool:
        return self.modes != ["none"]


class LimitsSettings(Section):
    backend: Literal["auto", "memory", "redis"] = Field(
        "auto",
        description="Where rate-limit counters live: this process, Redis (shared by all replicas), or "
        "`auto`: Redis when `redis.url` is set.",
    )
    fail_open: bool = Field(
        False,
        description="When Redis cannot answer, let tool calls through unlimited (logged and counted) instead "
        "of refusing them with 503. Applies to rate limits only; everything else fails closed.",
    )
    rate: str | None = Field(None, description="Tool calls per principal, e.g. `60/minute` (none: unlimited).")
    burst: int | None = Field(
        None, gt=0, description="Calls allowed at once before the rate applies (default: the count)."
    )
    tool_rates: dict[str, str] = Field(
        default_factory=dict, description='Per tool and principal, e.g. `{ sql_query = "10/minute" }`.'
    )
    concurrency: int | None = Field(None, gt=0, description="Tool calls one principal may have in flight at once.")
    tool_timeout_seconds: float = Field(
        30.0, ge=0, description="Default time a tool call may take (0: no default; per-tool timeouts still apply)."
    )
    tool_timeouts: dict[str, float] = Field(default_factory=dict, description="Per-tool timeouts in seconds.")
    max_argument_bytes: int = Field(
        1024 * 1024, ge=0, description="Largest tool-call arguments, as JSON bytes (0: no cap)."
    )


class AuditSettings(Section):
    enabled: bool = Field(False, description="Write one JSON record per tool call and per refused request.")
    sink: Literal["stderr", "file"] = "stderr"
    file: str = Field("mcpcloud-audit.log", description="Audit file for sink=file (rotated).")
    max_bytes: int = Field(10 * 1024 * 1024, gt=0, description="Rotate the audit file at this size.")
    backups: int = Field(5, ge=0, description="Rotated audit files kept.")
    raw_arguments_tools: list[str] = Field(
        default_factory=list, description="Tools whose arguments are recorded (secret-looking fields redacted)."
    )


class RedisSettings(Section):
    url: SecretStr | None = Field(
        None,
        description="redis://[user:password@]host:port/db: the one connection for all shared state (sessions, "
        "request-state keys, subscriptions, rate limits, API keys, cache). Required for more than one replica.",
    )
    key_prefix: str = Field("mcpcloud:", description="Prefix of every key mcpcloud writes.")
    timeout_seconds: float = Field(
        1.0, gt=0, le=30, description="Longest wait for one Redis reply or connect; beyond it the request gets 503."
    )
    retry_after_seconds: int = Field(
        5, ge=1, le=300, description="`Retry-After` sent with the 503 answered while Redis cannot be reached."
    )


class MetricsSettings(Section):
    enabled: bool = Field(True, description="Serve Prometheus metrics at /metrics.")
    port: int | None = Field(
        None, ge=1, le=65535, description="Serve /metrics on this port instead of the main one (e.g. cluster-internal)."
    )
    bearer_token: SecretStr | None = Field(
        None, description="If set, /metrics requires `Authorization: Bearer <token>` (or give `bearer_token_file`)."
    )


class TracingSettings(Section):
    enabled: bool = Field(
        False, description="Emit OpenTelemetry traces; the exporter is configured by the standard OTEL_* environment."
    )
    exporter: Literal["otlp", "console"] = Field("otlp", description="`otlp` (OTLP/HTTP) or `console` (stderr).")


class ObservabilitySettings(Section):
    access_log: bool = Field(True, description="One log line per HTTP request (probes at DEBUG).")
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)


class CacheSettings(Section):
    """The result cache (pipeline stage `cache`): tools opt in with a TTL; see docs/DATA.md."""

    enabled: bool = Field(True, description="Serve opted-in tools' results from the cache.")
    backend: Literal["auto", "memory", "redis"] = Field(
        "auto",
        description="`memory`: one LRU per process; `redis`: shared by every replica; `auto`: redis when "
        "`redis.url` is set.",
    )
    max_entries: int = Field(10_000, gt=0, description="Memory backend: most entries kept.")
    max_bytes: int = Field(64 * 1024 * 1024, gt=0, description="Memory backend: most bytes of results kept.")
    redis_url: SecretStr | None = Field(
        None, description="Deprecated: set `redis.url` instead (one connection for all shared state)."
    )
    namespace: str | None = Field(
        None, description="Prefix of every cache key (default: `redis.key_prefix` + `cache:`)."
    )
    ttl_overrides: dict[str, float] = Field(
        default_factory=dict, description="Tool name -> TTL seconds, replacing the tool's own; 0 disables."
    )


ReadinessPolicy = Literal["required", "degraded"]


class ReadinessSettings(Section):
    """How a pack's failing dependency affects `/readyz` (and so whether the replica gets traffic)."""

    default_policy: ReadinessPolicy = Field(
        "degraded",
        description="`degraded`: a failing pack is named in /readyz but the replica stays in service (its other "
        "tools and cached results still work); `required`: a failing pack makes /readyz 503.",
    )
    packs: dict[str, ReadinessPolicy] = Field(
        default_factory=dict, description="Pack name -> policy, overriding the default."
    )
    check_timeout_seconds: float = Field(
        1.0, gt=0, le=30, description="Longest one pack's check may take; keep it below the readiness probe's timeout."
    )


class SessionSettings(Section):
    """Legacy-era (`initialize` handshake) sessions on HTTP: how long they live and how many there may be."""

    idle_timeout_minutes: float = Field(
        10.0,
        gt=0,
        le=24 * 60,
        description="A session with no request for this long is closed; the client re-initializes.",
    )
    max_per_principal: int = Field(
        100, gt=0, description="Open sessions one principal (API key, OAuth subject) may hold at once."
    )
    max_per_process: int | None = Field(
        None, gt=0, description="Open sessions one server process may hold (default: sized to the memory limit)."
    )


class RequestStateSettings(Section):
    """Keys that seal 2026-07-28 multi-round `requestState`, the same on every replica."""

    keys: SecretStr | None = Field(
        None,
        description="Comma- or newline-separated secrets of >= 32 bytes; the first seals, all unseal (rotation). "
        "Give `keys_file` for a mounted Secret. Unset: created once in Redis (`redis.url`), else per process.",
    )
    ttl_seconds: float = Field(600.0, gt=0, le=86400, description="How long a sealed requestState stays valid.")


ApprovalMode = Literal["destructive", "always", "never"]


class ApprovalSettings(Section):
    """When a tool call waits for the person's approval, asked through their MCP client (docs/LOCAL.md)."""

    default: ApprovalMode | None = Field(
        None,
        description="Mode for every tool not in `tools`; unset: each pack's own default "
        "(filesystem and shell: destructive; other packs: never; remote tools: destructive).",
    )
    tools: dict[str, ApprovalMode] = Field(
        default_factory=dict, description='Per tool, e.g. `{ write_file = "never", run_command = "always" }`.'
    )
    ttl_seconds: float = Field(300.0, gt=0, le=3600, description="How long an approval question stays answerable.")


REMOTE_NAME = r"^[a-z][a-z0-9_-]{0,31}$"


class RemoteOAuthSettings(Section):
    """OAuth for one remote: client credentials for machines, authorization code + PKCE for people."""

    grant: Literal["authorization_code", "client_credentials"] = Field(
        "authorization_code",
        description="`authorization_code` (a person logs in with `mcpcloud remotes login`) "
        "or `client_credentials` (a machine with its own client id and secret).",
    )
    issuer: str | None = Field(
        None,
        description="The authorization server the credentials belong to; the flow stops if the remote "
        "points anywhere else (default: whatever the remote advertises).",
    )
    client_id: str | None = Field(
        None, description="client_credentials: the client id (authorization_code registers itself dynamically)."
    )
    client_secret: SecretStr | None = Field(None, description="Client secret (or `client_secret_file`).")
    scopes: list[str] = Field(
        default_factory=list, description="Scopes to ask for (default: what the remote advertises)."
    )


class RemoteSettings(Section):
    """One upstream MCP server: `[remotes.<name>]` in TOML, `MCPCLOUD_REMOTES__<NAME>__<KEY>` in env."""

    url: str = Field(description="The remote's MCP endpoint, e.g. https://mcp.example.com/mcp.")
    headers: dict[str, SecretStr] = Field(
        default_factory=dict, description="HTTP headers sent on the hop (values are secrets: never logged or shown)."
    )
    headers_file: str | None = Field(None, description="File of `Name: value` lines, read at connect and after a 401.")
    token_file: str | None = Field(
        None, description="File holding a bearer token for `Authorization`, re-read after a 401 (a rotated token)."
    )
    auth: Literal["headers", "oauth"] = Field("headers", description="`headers` (static credentials) or `oauth`.")
    oauth: RemoteOAuthSettings = Field(default_factory=RemoteOAuthSettings)
    prefix: str | None = Field(None, description="Prefix of the remote's tool names here (default `<name>_`).")
    tools: list[str] = Field(default_factory=lambda: ["*"], description="Remote tools to offer (glob patterns).")
    exclude_tools: list[str] = Field(default_factory=list, description="Remote tools to hide (glob patterns).")
    scopes: list[str] | None = Field(
        None,
        description="Scopes a caller needs for this remote's tools (default `remotes.<name>:read` for read-only "
        "tools, `remotes.<name>:write` for the others).",
    )
    timeout_seconds: float = Field(60.0, gt=0, description="Longest wait for one answer from the remote.")
    required: bool = Field(False, description="If true, /readyz fails while the remote is unreachable.")
    mode: Literal["auto", "legacy", "2026-07-28"] = Field(
        "auto", description="Protocol era on the hop: `auto` asks the remote (2026-07-28, else the handshake)."
    )
    retry_seconds: float = Field(5.0, gt=0, description="Longest pause between reconnect attempts.")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise _problem("must be an http:// or https:// URL of the remote's MCP endpoint")
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix_chars(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{0,32}", value):
            raise _problem("use at most 32 letters, digits, '_' or '-' (tool names allow nothing else)")
        return value

    @model_validator(mode="after")
    def _oauth_consistent(self) -> RemoteSettings:
        if (
            self.auth == "oauth"
            and self.oauth.grant == "client_credentials"
            and not (self.oauth.client_id and self.oauth.client_secret)
        ):
            raise _problem("oauth.client_id and oauth.client_secret are required for grant client_credentials")
        return self


class Settings(BaseSettings):
    """The effective configuration of one mcpcloud process."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    transport: Literal["stdio", "http"] = Field("http", description="How clients reach this server.")
    host: str = Field("127.0.0.1", description="Address the HTTP server binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port the HTTP server binds to.")
    packs: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["core"], description="Tool packs to enable, by name (comma-separated in env/flags)."
    )
    http: HTTPSettings = Field(default_factory=HTTPSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    readiness: ReadinessSettings = Field(default_factory=ReadinessSettings)
    sessions: SessionSettings = Field(default_factory=SessionSettings)
    request_state: RequestStateSettings = Field(default_factory=RequestStateSettings)
    approval: ApprovalSettings = Field(default_factory=ApprovalSettings)
    pack: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per-pack settings, `[pack.<name>]` in TOML; each pack validates its own."
    )
    remotes: dict[str, RemoteSettings] = Field(
        default_factory=dict, description="Upstream MCP servers whose tools are offered here (`[remotes.<name>]`)."
    )
    state_dir: str | None = Field(
        None, description="Per-user state (remote tool pins, OAuth tokens); default $XDG_STATE_HOME/mcpcloud."
    )

    _deprecations: list[str] = PrivateAttr(default_factory=list)

    @field_validator("packs", mode="before")
    @classmethod
    def _split_packs(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",")]
        if isinstance(value, list):
            seen: list[str] = []
            for name in value:
                if isinstance(name, str) and name and name not in seen:
                    seen.append(name)
            return seen
        return value

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, data: Any) -> Any:
        return read_secret_files(cls, data) if isinstance(data, dict) else data

    @field_validator("remotes")
    @classmethod
    def _remote_names(cls, remotes: dict[str, RemoteSettings]) -> dict[str, RemoteSettings]:
        for name in remotes:
            if not re.fullmatch(REMOTE_NAME, name):
                raise _problem(f"{name!r}: a remote's name is a lowercase letter, then up to 31 of a-z 0-9 _ -")
        return remotes

    @field_validator("auth")
    @classmethod
    def _auth_required_off_loopback(cls, auth: AuthSettings, info: ValidationInfo) -> AuthSettings:
        host = info.data.get("host", "127.0.0.1")
        if info.data.get("transport") == "http" and not auth.enabled and not is_loopback(host):
            raise _problem(
                f"modes is 'none' (no authentication), which is only allowed when bound to loopback, and host is "
                f"{host!r}; enable api_keys and/or oauth (e.g. MCPCLOUD_AUTH__MODES=api_keys) or bind to 127.0.0.1"
            )
        return auth

    @field_validator("redis")
    @classmethod
    def _redis_when_needed(cls, redis: RedisSettings, info: ValidationInfo) -> RedisSettings:
        limits, auth = info.data.get("limits"), info.data.get("auth")
        needs = (limits is not None and limits.backend == "redis") or (
            auth is not None and auth.enabled and auth.api_keys.store == "redis"
        )
        if needs and redis.url is None:
            raise _problem("url is required when limits.backend or auth.api_keys.store is redis")
        return redis

    @model_validator(mode="after")
    def _one_redis_connection(self) -> Settings:
        """Fold the deprecated `cache.redis_url` into `redis.url`, then resolve every `auto` backend."""
        legacy = self.cache.redis_url
        if legacy is not None:
            self._deprecations.append(
                "cache.redis_url is deprecated: set redis.url (one connection for all shared state) instead"
            )
            if self.redis.url is None:
                self.redis.url = legacy
            elif legacy.get_secret_value() != self.redis.url.get_secret_value():
                raise _problem(
                    "cache.redis_url (deprecated) and redis.url name different servers; remove cache.redis_url: "
                    "redis.url is the one connection for all shared state"
                )
        shared = self.redis.url is not None
        for section in (self.limits, self.cache):
            if section.backend == "auto":
                section.backend = "redis" if shared else "memory"
        if self.cache.namespace is None:
            self.cache.namespace = self.redis.key_prefix + "cache:"
        if self.cache.backend == "redis":
            self.cache.redis_url = self.redis.url  # what the cache stage opens
        if self.http.workers > 1 and not shared:
            raise _problem(
                f"http.workers is {self.http.workers}, and workers share sessions, request-state keys and limits "
                "only through Redis: set redis.url (env MCPCLOUD_REDIS__URL) or run one worker per pod"
            )
        limited = self.limits.rate is not None or bool(self.limits.tool_rates)
        if self.http.workers > 1 and limited and self.limits.backend == "memory":
            raise _problem(
                f"limits.backend is 'memory' with http.workers = {self.http.workers}: each worker would grant "
                "the whole rate; use limits.backend = 'redis' (or 'auto') so the workers share one budget"
            )
        if self.cache.backend == "redis" and not shared:
            raise _problem("cache: backend 'redis' needs redis.url (env MCPCLOUD_REDIS__URL)")
        return self

    @property
    def binds_loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def mcp_url(self) -> str:
        if self.http.public_url:
            return self.http.public_url
        host = self.host
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}{self.http.path}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))


class _TomlSource(PydanticBaseSettingsSource):
    """The TOML file named by `MCPCLOUD_CONFIG` (set from `--config` by the CLI)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover - unused
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get(f"{ENV_PREFIX}CONFIG")
        return load_toml(Path(path)) if path else {}


def load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"config file {str(path)!r}: cannot read it: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {str(path)!r}: not valid TOML: {exc}") from None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build the settings, turning every validation problem into one readable `ConfigError`."""
    if config_file is not None:
        os.environ[f"{ENV_PREFIX}CONFIG"] = str(config_file)
    explicit = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**explicit)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError, prefix: str = "") -> str:
    """One line per problem: `key: problem (got value)`; values of secret-looking keys are not shown."""
    lines = []
    for error in exc.errors(include_url=False):
        key = prefix + ".".join(str(part) for part in error["loc"]) if error["loc"] else prefix.rstrip(".") or "config"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown setting"
        got = error.get("input")
        if isinstance(got, str):
            got = redact_url(got)  # a rejected URL may still carry a password
        hidden = _looks_secret(key) or isinstance(got, (dict, BaseModel)) or error["type"] == "missing"
        shown = "" if hidden else f" (got {got!r})"
        if not error["loc"] and not prefix:  # a rule across sections: the message names the settings itself
            lines.append(f"{message}{shown}")
            continue
        env = ENV_PREFIX + key.upper().replace(".", "__")
        lines.append(f"{key}: {message}{shown} [env {env}]")
    return "; ".join(lines)


def _looks_secret(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in ("password", "secret", "token", "key", "credential"))


_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


def redacted(value: Any) -> Any:
    """A printable copy of settings data with every secret replaced."""
    if isinstance(value, BaseModel):
        return redacted({name: getattr(value, name) for name in type(value).model_fields})
    if isinstance(value, SecretStr):
        return REDACTED if value.get_secret_value() else ""
    if isinstance(value, dict):
        return {
            k: (REDACTED if _looks_secret(str(k)) and v not in (None, "") else redacted(v)) for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redacted(v) for v in value]
    if isinstance(value, str):
        return redact_url(value)
    return value


def redact_url(text: str) -> str:
    """Hide the password of a `scheme://user:password@host` URL (and a libpq-style `?password=`)."""
    text = _QUERY_PASSWORD.sub(lambda m: m.group(1) + REDACTED, text) if "://" in text else text
    scheme, sep, rest = text.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return text
    userinfo, _, hostpart = rest.partition("@")
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:{REDACTED}@{hostpart}" if ":" in userinfo else f"{scheme}://{REDACTED}@{hostpart}"


def deprecation_notes(settings: Settings) -> list[str]:
    """Settings that still work but will go: logged once at startup."""
    return list(settings._deprecations)
