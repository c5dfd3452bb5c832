"""Authentication settings: refused combinations at startup, secrets from files, redacted output."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mcpcloud.cli import main


def _run(*args: str, **env: str) -> Result:
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("MCPCLOUD_")}
    return CliRunner().invoke(main, list(args), env={**clean, **env})


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::"])
def test_no_authentication_is_refused_off_loopback(host: str) -> None:
    result = _run("serve", "--transport", "http", "--host", host)
    assert result.exit_code == 2
    assert "auth: modes is 'none' (no authentication), which is only allowed when bound to loopback" in result.stderr
    assert "MCPCLOUD_AUTH__MODES=api_keys" in result.stderr


@pytest.mark.parametrize(
    "env, message",
    [
        ({"MCPCLOUD_AUTH__MODES": "none,api_keys"}, "auth: modes: 'none' cannot be combined"),
        ({"MCPCLOUD_AUTH__MODES": "oauth"}, "auth: oauth.issuer is required when modes includes oauth"),
        ({"MCPCLOUD_AUTH__MODES": "passwords"}, "auth.modes.0"),
        ({"MCPCLOUD_AUTH__OAUTH__ALGORITHMS": '["HS256"]'}, "only asymmetric algorithms"),
        ({"MCPCLOUD_AUTH__OAUTH__ALGORITHMS": '["none"]'}, "only asymmetric algorithms"),
        ({"MCPCLOUD_LIMITS__BACKEND": "redis"}, "redis: url is required when limits.backend"),
    ],
)
def test_inconsistent_auth_settings_are_named(env: dict[str, str], message: str) -> None:
    result = _run("config", **env)
    assert result.exit_code == 2 and message in result.stderr


def test_authentication_on_allows_binding_everywhere_and_secrets_stay_hidden(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("very-secret-value\n")
    result = _run(
        "config",
        "--host",
        "0.0.0.0",
        MCPCLOUD_AUTH__MODES="api_keys,oauth",
        MCPCLOUD_AUTH__OAUTH__ISSUER="https://idp.example",
        MCPCLOUD_AUTH__OAUTH__INTROSPECTION_CLIENT_SECRET_FILE=str(tmp_path / "secret"),
        MCPCLOUD_REDIS__URL="redis://user:hunter2@redis:6379/0",
    )
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["auth"]["modes"] == ["api_keys", "oauth"]
    assert shown["auth"]["oauth"]["introspection_client_secret"] == "**********"
    assert "very-secret-value" not in result.stdout and "hunter2" not in result.stdout
