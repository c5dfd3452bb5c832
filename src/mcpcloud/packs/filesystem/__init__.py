"""The `filesystem` pack: the reference filesystem server's tools, confined to configured roots.

Same tool names and arguments as `@modelcontextprotocol/server-filesystem`, so prompts and
clients written for it work unchanged. Every path goes through `Roots.locate` (containment on
the resolved path) and `Walker` (open without following links, verify what was opened). Write
tools exist only with `allow_writes = true`, need the `filesystem:write` scope, and ask the
person first (`mcpcloud.approval`) unless configured otherwise.
"""

from __future__ import annotations

import base64
import functools
import json
import mimetypes
from pathlib import Path
from typing import Any, Literal

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import AudioContent, BlobResourceContents, EmbeddedResource, ImageContent, ToolAnnotations
from pydantic import Field

from mcpcloud.approval.preview import Preview, previewed_by
from mcpcloud.packs import PackContext
from mcpcloud.packs.filesystem import files, listing
from mcpcloud.packs.filesystem.edits import EditOperation, apply_edits, unified_diff
from mcpcloud.packs.filesystem.listing import MAX_DEPTH
from mcpcloud.packs.filesystem.settings import Settings
from mcpcloud.packs.roots import RefusedPathError, Roots
from mcpcloud.packs.rootwalk import MissingPathError, Walker, require_posix

name = "filesystem"
description = "Read (and, when allowed, change) files below configured root directories."
approve_default = "destructive"

__all__ = ["Settings", "approve_default", "description", "name", "register"]

READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
CREATE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
OVERWRITE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False)
CHANGE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False)

PathArg = str
Excludes = list[str]


def refused_as_tool_errors(fn: Any) -> Any:
    """A `RefusedPathError` is the caller's mistake, written for them: it becomes the tool's error text."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RefusedPathError as exc:
            raise ToolError(str(exc)) from None

    return run


class Files:
    """The pack's operations on its roots, each returning what the tool returns."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.walker = Walker(Roots(settings.roots))

    def locate(self, path: str) -> Any:
        return self.walker.locate(path)

    def read_text(self, path: str, head: int | None, tail: int | None) -> str:
        return files.read_text(self.walker, self.locate(path), self.settings.max_read_bytes, head, tail)

    def current_text(self, path: str) -> str | None:
        """The file's text, or None when it does not exist yet (for previews and edits)."""
        located = self.locate(path)
        try:
            data, whole = files.read_bytes(self.walker, located, self.settings.max_write_bytes)
        except MissingPathError:
            return None
        if not whole:
            raise RefusedPathError(f"{located.path} is larger than the write cap; it cannot be edited here.")
        return files.decode_text(data, located.path)

    def edited(self, path: str, edits: list[EditOperation]) -> tuple[str, str, str]:
        located = self.locate(path)
        before = self.current_text(path)
        if before is None:
            raise RefusedPathError(f"{located.path}: no such file; edit_file changes existing files (use write_file).")
        return located.path, before, apply_edits(before, edits, located.path)

    def write_preview(self, path: str, content: str) -> Preview:
        located = self.locate(path)
        before = self.current_text(path)
        if before is None:
            return Preview(f"Create {located.path} ({len(content.encode())} bytes):\n{content}")
        return Preview(f"Overwrite {located.path}:\n{unified_diff(before, content, located.path)}")


def register(ctx: PackContext) -> None:
    require_posix(name)
    settings: Settings = ctx.settings
    fs = Files(settings)
    _register_reads(ctx, fs)
    if settings.allow_writes:
        _register_writes(ctx, fs)


def _register_reads(ctx: PackContext, fs: Files) -> None:
    settings = fs.settings
    read = ctx.tool(annotations=READ)

    @read
    @refused_as_tool_errors
    def read_text_file(
        path: PathArg,
        head: int | None = Field(None, description="Only the first N lines."),
        tail: int | None = Field(None, description="Only the last N lines."),
    ) -> str:
        """Read a UTF-8 text file inside the allowed directories (optionally only its first or last N lines)."""
        return fs.read_text(path, head, tail)

    @read
    @refused_as_tool_errors
    def read_media_file(path: PathArg) -> ImageContent | AudioContent | EmbeddedResource:
        """Read an image or audio file (other files come back as a blob), base64-encoded with its MIME type."""
        located = fs.locate(path)
        data, whole = files.read_bytes(fs.walker, located, settings.max_read_bytes)
        if not whole:
            raise RefusedPathError(f"{located.path} is larger than the read cap of {settings.max_read_bytes} bytes.")
        mime = mimetypes.guess_type(located.path)[0] or "application/octet-stream"
        encoded = base64.b64encode(data).decode("ascii")
        if mime.startswith("image/"):
            return ImageContent(type="image", data=encoded, mime_type=mime)
        if mime.startswith("audio/"):
            return AudioContent(type="audio", data=encoded, mime_type=mime)
        blob = BlobResourceContents(uri=Path(located.path).as_uri(), blob=encoded, mime_type=mime)
        return EmbeddedResource(type="resource", resource=blob)

    @read
    def read_multiple_files(paths: list[PathArg]) -> str:
        """Read several text files at once; a file that cannot be read reports its error without stopping the rest."""
        parts, total = [], 0
        for path in paths:
            try:
                text = fs.read_text(path, None, None)
            except RefusedPathError as exc:
                parts.append(f"{path}: Error - {exc}")
                continue
            total += len(text.encode())
            if total > settings.max_read_bytes:
                parts.append(f"{path}: skipped - the combined read cap of {settings.max_read_bytes} bytes was reached")
                continue
            parts.append(f"{path}:\n{text}\n")
        return "\n---\n".join(parts)

    @read
    @refused_as_tool_errors
    def list_directory(path: PathArg) -> str:
        """List a directory's entries, each prefixed [DIR], [FILE] or [LINK] (symbolic links are never followed)."""
        return listing.list_directory(fs.walker, fs.locate(path), False, "name")

    @read
    @refused_as_tool_errors
    def list_directory_with_sizes(path: PathArg, sortBy: Literal["name", "size"] = "name") -> str:  # noqa: N803
        """List a directory's entries with sizes, sorted by name or size, with totals."""
        return listing.list_directory(fs.walker, fs.locate(path), True, sortBy)

    @read
    @refused_as_tool_errors
    def directory_tree(path: PathArg, excludePatterns: Excludes = []) -> str:  # noqa: B006, N803
        """A recursive JSON tree of name/type/children below a directory (glob excludePatterns skip entries)."""
        tree, cut = listing.directory_tree(fs.walker, fs.locate(path), excludePatterns, settings.max_entries)
        text = json.dumps(tree, indent=2)
        return text + (f"\n[truncated: more than {settings.max_entries} entries or {MAX_DEPTH} levels]" if cut else "")

    @read
    @refused_as_tool_errors
    def search_files(path: PathArg, pattern: str, excludePatterns: Excludes = []) -> str:  # noqa: B006, N803
        """Find files and directories below a path whose name or relative path matches a glob pattern."""
        found, cut = listing.search(fs.walker, fs.locate(path), pattern, excludePatterns, settings.max_entries)
        text = "\n".join(found) or "No matches found"
        return text + (
            f"\n[truncated: stopped after {settings.max_entries} entries or {MAX_DEPTH} levels]" if cut else ""
        )

    @read
    @refused_as_tool_errors
    def get_file_info(path: PathArg) -> str:
        """Size, times, type and permissions of a file or directory (a symbolic link is described, not followed)."""
        return listing.file_info(fs.walker, fs.locate(path))

    @read
    def list_allowed_directories() -> str:
        """The directories this server may access."""
        return "Allowed directories:\n" + "\n".join(fs.walker.roots.paths)


def _register_writes(ctx: PackContext, fs: Files) -> None:
    settings = fs.settings

    @ctx.tool(annotations=OVERWRITE)
    @previewed_by(lambda args: _previewing(fs.write_preview, args["path"], args["content"]))
    @refused_as_tool_errors
    def write_file(path: PathArg, content: str) -> str:
        """Create a file or replace its whole content (atomically: readers see the old or the new file)."""
        located = fs.locate(path)
        files.write_atomically(fs.walker, located, content.encode(), settings.max_write_bytes)
        return f"Successfully wrote to {located.path}"

    def edit_preview(args: dict[str, Any]) -> Preview:
        shown, before, after = _previewing(fs.edited, args["path"], args["edits"])
        return Preview(f"Edit {shown}:\n{unified_diff(before, after, shown)}", destructive=not args.get("dryRun"))

    @ctx.tool(annotations=CHANGE)
    @previewed_by(edit_preview)
    @refused_as_tool_errors
    def edit_file(path: PathArg, edits: list[EditOperation], dryRun: bool = False) -> str:  # noqa: N803
        """Replace exact text in a file; each oldText must occur exactly once. Returns a unified diff.

        With dryRun the diff is returned and nothing is written.
        """
        shown, before, after = fs.edited(path, edits)
        diff = unified_diff(before, after, shown)
        if not dryRun:
            files.write_atomically(fs.walker, fs.locate(path), after.encode(), settings.max_write_bytes)
        return diff

    @ctx.tool(annotations=CREATE)
    @refused_as_tool_errors
    def create_directory(path: PathArg) -> str:
        """Create a directory and any missing parents; succeeds if it already exists."""
        located = fs.locate(path)
        files.make_directories(fs.walker, located)
        return f"Successfully created directory {located.path}"

    @ctx.tool(annotations=CHANGE)
    @previewed_by(lambda args: Preview(f"Move {_shown(fs, args['source'])} to {_shown(fs, args['destination'])}"))
    @refused_as_tool_errors
    def move_file(source: PathArg, destination: PathArg) -> str:
        """Move or rename a file or directory within the allowed directories; fails if the destination exists."""
        located_source, located_destination = fs.locate(source), fs.locate(destination)
        files.move(fs.walker, located_source, located_destination)
        return f"Successfully moved {located_source.path} to {located_destination.path}"


def _previewing(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except RefusedPathError as exc:
        raise ToolError(str(exc)) from None


def _shown(fs: Files, path: str) -> str:
    return _previewing(fs.locate, path).path
