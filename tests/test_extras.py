"""pyproject.toml's extras stay consistent with the packs that name them (read from the installed metadata)."""

from __future__ import annotations

import pytest

from mcpcloud.errors import ConfigError
from mcpcloud.packs import available_packs
from mcpcloud.packs.extras import NOT_RUNTIME_EXTRAS, MissingExtra, extra_distributions, require_extra


def test_every_extra_a_pack_names_exists_and_brings_something() -> None:
    named = {extra for ep in available_packs().values() for extra in ep.extras}
    assert {"sql", "vectors", "github", "stripe"} <= named
    for extra in named | {"postgres", "pinecone"}:
        assert extra_distributions(extra), f"pyproject.toml has no [project.optional-dependencies] {extra}"


def test_all_and_test_bring_every_runtime_extra() -> None:
    runtime = {"sql", "postgres", "vectors", "github", "stripe", "pinecone"}
    assert not runtime & NOT_RUNTIME_EXTRAS
    every = {name.lower() for extra in runtime for name in extra_distributions(extra)}
    assert every <= {name.lower() for name in extra_distributions("all")}
    assert every <= {name.lower() for name in extra_distributions("test")}, "make test must have every pack's deps"


def test_an_extra_nobody_declares_is_not_required() -> None:
    require_extra("no-such-extra", "nothing")  # declares no distributions: nothing can be missing


def test_a_missing_extra_names_what_is_missing_on_this_platform_and_the_pip_line() -> None:
    """pytest's `dev` extra: some of it is not installed here; `asynctest` is only for Python < 3.11."""
    assert issubclass(MissingExtra, ConfigError)
    with pytest.raises(MissingExtra) as raised:
        require_extra("dev", "a test", distribution="pytest")
    message = str(raised.value)
    assert message.startswith("a test needs the 'dev' extra, which is not installed (missing: ")
    assert message.endswith("): pip install 'pytest[dev]'")
    assert "hypothesis" in message and "asynctest" not in message and "iniconfig" not in message
