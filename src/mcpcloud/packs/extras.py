"""Optional dependencies: is the extra a pack needs installed, and if not, the exact line that installs it.

`pip install mcpcloud` is the core; a pack with heavy dependencies names its extra in its entry
point (`sql = "mcpcloud.packs.sql [sql]"` in pyproject.toml), and a backend chosen by settings
(PostgreSQL) asks with `require_extra("postgres", ...)`. What an extra contains is read from
mcpcloud's own installed metadata, so pyproject.toml stays the one list of dependencies.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, distribution, metadata, requires

from mcpcloud.errors import ConfigError

DISTRIBUTION = "mcpcloud"

# Extras for working on mcpcloud, not for running it; `all` is the union of the others.
NOT_RUNTIME_EXTRAS = frozenset({"all", "test", "bench"})


class MissingExtra(ConfigError):
    """A pack or backend is enabled but its extra is not installed; the message has the pip line."""


def install_line(extra: str, distribution: str = DISTRIBUTION) -> str:
    return f"pip install '{distribution}[{extra}]'"


def extra_distributions(extra: str, distribution: str = DISTRIBUTION) -> list[str]:
    """The distributions `<distribution>[<extra>]` brings on this platform, from its `Requires-Dist` metadata."""
    from packaging.requirements import InvalidRequirement, Requirement

    names = []
    for line in _requirements(distribution):
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        marker = requirement.marker
        # Only what the extra adds here: not the base dependencies, not another platform's.
        if marker is None or not marker.evaluate({"extra": extra}) or marker.evaluate({"extra": ""}):
            continue
        if requirement.name.lower() != distribution.lower():
            names.append(requirement.name)
    return names


def missing_distributions(extra: str, distribution: str = DISTRIBUTION) -> list[str]:
    """The distributions of the extra that are not installed (empty: the extra is complete)."""
    return [name for name in extra_distributions(extra, distribution) if not _installed(name)]


def require_extra(extra: str, needed_for: str, distribution: str = DISTRIBUTION) -> None:
    """Raise MissingExtra (exit 2 from the CLI) unless every distribution of the extra is installed.

    `distribution` is the one that declares the extra: mcpcloud for its own packs, a third-party
    pack's own distribution for the extras its entry point names.
    """
    missing = missing_distributions(extra, distribution)
    if missing:
        raise MissingExtra(
            f"{needed_for} needs the '{extra}' extra, which is not installed (missing: {', '.join(missing)}): "
            f"{install_line(extra, distribution)}"
        )


def installed_extras() -> tuple[str, ...]:
    """The runtime extras whose distributions are all installed here, e.g. ("postgres", "sql")."""
    try:
        provided = metadata(DISTRIBUTION).get_all("Provides-Extra") or []
    except PackageNotFoundError:
        return ()
    return tuple(
        sorted(
            extra
            for extra in provided
            if extra not in NOT_RUNTIME_EXTRAS and extra_distributions(extra) and not missing_distributions(extra)
        )
    )


@cache
def _requirements(distribution: str) -> list[str]:
    try:
        return requires(distribution) or []
    except PackageNotFoundError:  # running from a source tree that was never installed: nothing to check
        return []


def _installed(name: str) -> bool:
    try:
        distribution(name)
    except PackageNotFoundError:
        return False
    return True
