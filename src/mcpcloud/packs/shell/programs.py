"""The allowlist, resolved once at startup to absolute paths, each with its argument rules."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, replace

from mcpcloud.errors import ConfigError
from mcpcloud.packs.shell import git as _git  # noqa: F401  (adds git's rules to RULES)
from mcpcloud.packs.shell.rules import NEVER_STARTED, REFUSED_PROGRAMS, RULES, Rule
from mcpcloud.packs.shell.settings import DEFAULT_ALLOW, Settings

MULTI_CALL = ("busybox", "toybox")
"""Binaries that act as the program they are invoked as; argv[0] is fixed here, so they stay that program."""


@dataclass(frozen=True)
class Program:
    name: str
    path: str
    rule: Rule
    read_only: bool


def resolve_programs(settings: Settings) -> dict[str, Program]:
    search = settings.path or os.environ.get("PATH", os.defpath)
    if settings.allow is None:
        names = [name for name in DEFAULT_ALLOW if shutil.which(name, path=search)]
    else:
        names = list(dict.fromkeys(settings.allow))
    return {name: _program(name, settings, search) for name in names}


def _program(name: str, settings: Settings, search: str) -> Program:
    where = f"pack.shell.allow: {name!r}"
    if os.sep in name or not name:
        raise ConfigError(f"{where} must be a program name found on PATH, not a path")
    if REFUSED_PROGRAMS.match(name):
        raise ConfigError(f"{where} {NEVER_STARTED} (argument rules cannot make them safe)")
    rule = RULES.get(name)
    custom = settings.programs.get(name)
    if custom is not None:
        rule = replace(rule or Rule(), refused=(rule or Rule()).refused | frozenset(custom.refuse))
    if rule is None:
        raise ConfigError(
            f"{where} has no argument rules in mcpcloud; describe the options to refuse in "
            f'[pack.shell.programs.{name}] refuse = ["--exec", ...] (and read_only = true if it only reads)'
        )
    path = shutil.which(name, path=search)
    if path is None:
        raise ConfigError(f"{where} was not found on PATH ({search}); install it or remove it from the list")
    real = os.path.basename(os.path.realpath(path))
    if REFUSED_PROGRAMS.match(real) and real not in MULTI_CALL:
        raise ConfigError(f"{where} is {os.path.realpath(path)}, an interpreter or launcher; refused")
    read_only = name in settings.read_only or bool(custom and custom.read_only)
    return Program(name=name, path=os.path.abspath(path), rule=rule, read_only=read_only)
