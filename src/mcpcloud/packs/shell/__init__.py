"""The `shell` pack: `run_command(argv, cwd, timeout_seconds)`, an allowlisted program with its
arguments as a list. Never a shell: there is no string to split or interpret, so `;`, `$(...)`,
backticks, pipes and newlines are just characters in an argument.

Refused over HTTP unless `allow_on_http = true`; calls that may change files ask the person
first (`mcpcloud.approval`), read-only programs do not.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from mcpcloud.approval.preview import Preview, previewed_by
from mcpcloud.observability.logging import get_logger
from mcpcloud.packs import PackContext
from mcpcloud.packs.roots import RefusedPathError, Roots
from mcpcloud.packs.rootwalk import Walker, require_posix
from mcpcloud.packs.shell import run as runner
from mcpcloud.packs.shell.gitdir import ceiling
from mcpcloud.packs.shell.plan import Plan, make_plan
from mcpcloud.packs.shell.programs import resolve_programs
from mcpcloud.packs.shell.run import CommandResult
from mcpcloud.packs.shell.settings import Settings

name = "shell"
description = "Run allowlisted programs (argv, never a shell) inside configured root directories."
approve_default = "destructive"

__all__ = ["Settings", "approve_default", "description", "name", "register"]

RUN = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True)
log = get_logger("mcpcloud.shell")


def audit(event: str, **fields: Any) -> None:
    """Every run and every refusal, with its argv: in the audit stream when it is on, always in the log."""
    audit_log = logging.getLogger("mcpcloud.audit")
    if audit_log.handlers:
        entry = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "event": event, **fields}
        audit_log.info(json.dumps(entry, ensure_ascii=False, default=str))
    log.info(event, **fields)


def register(ctx: PackContext) -> None:
    require_posix(name)
    settings: Settings = ctx.settings
    programs = resolve_programs(settings)
    roots = Roots(settings.roots)
    walker = Walker(roots)

    def planned(argv: list[str], cwd: str | None, timeout: int | None) -> Plan:
        if timeout is not None and not 0 < timeout <= settings.max_timeout_seconds:
            raise ToolError(
                f"timeout_seconds must be between 1 and {settings.max_timeout_seconds} "
                "([pack.shell] max_timeout_seconds)."
            )
        try:
            return make_plan(programs, roots, argv, cwd)
        except RefusedPathError as exc:
            audit("shell_refused", argv=argv, cwd=cwd, reason=str(exc))
            raise ToolError(str(exc)) from None

    def preview(args: dict[str, Any]) -> Preview:
        plan = planned(args["argv"], args.get("cwd"), args.get("timeout_seconds"))
        return Preview(plan.describe(), destructive=not plan.read_only)

    @ctx.tool(annotations=RUN)
    @previewed_by(preview)
    async def run_command(
        argv: Annotated[list[str], Field(description='The program, then each argument: ["git", "log", "-5"].')],
        cwd: Annotated[str | None, Field(description="Working directory inside the allowed directories.")] = None,
        timeout_seconds: Annotated[int | None, Field(description="Kill it and all it started after this.")] = None,
        context: Context | None = None,
    ) -> CommandResult:
        """Run an allowlisted program with arguments (never through a shell) and return its exit code and output.

        Shell syntax has no meaning here: pipes, `;`, `$(...)` and globs are passed literally.
        Paths in arguments must stay inside the allowed directories.
        """
        if context is not None and context.request_context.request is not None and not settings.allow_on_http:
            raise ToolError(
                "run_command is refused over HTTP: a shell on a shared service is rarely wanted. To allow it, set "
                "[pack.shell] allow_on_http = true in the server's config."
            )
        plan = planned(argv, cwd, timeout_seconds)
        env = {key: os.environ[key] for key in settings.env if key in os.environ} | plan.program.rule.env
        if plan.program.name == "git":
            env |= ceiling(roots)
        timeout = timeout_seconds or settings.default_timeout_seconds
        caller = ctx.caller(context).id if context is not None else None
        try:
            with walker.directory(plan.cwd) as cwd_fd:
                result, seconds = await runner.run_command(
                    plan.program.path, plan.args, cwd_fd, env, timeout, settings.max_output_bytes
                )
        except RefusedPathError as exc:  # the cwd changed (e.g. became a symlink) after it was checked
            raise ToolError(str(exc)) from None
        audit(
            "shell_run",
            argv=list(plan.argv),
            cwd=plan.cwd.path,
            program=plan.program.path,
            caller=caller,
            exit_code=result.exit_code,
            timed_out=result.timed_out,
            truncated=result.truncated,
            duration_ms=round(seconds * 1000, 3),
        )
        return result
