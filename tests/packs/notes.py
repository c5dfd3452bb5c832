"""A test-only pack, enabled by module path (`tests.packs.notes`): a resource, a template and a prompt.

Reading `notes://readme` and getting `summarize` need `notes:read` (the defaults); a note
(`notes://item/{id}`) needs `notes:secret`. `token` (or `token_file`) proves a pack's own
settings take `*_file` secrets: `whoami` says which token the pack was given (its last 4 characters).
"""

from __future__ import annotations

from mcp.server.mcpserver import UserMessage
from mcp_types import ToolAnnotations
from pydantic import BaseModel, SecretStr

from mcpcloud.packs import PackContext

name = "notes"
description = "Notes as resources, a prompt about them."


class Settings(BaseModel):
    model_config = {"extra": "forbid"}
    token: SecretStr = SecretStr("none")


def register(ctx: PackContext) -> None:
    settings: Settings = ctx.settings

    @ctx.resource("notes://readme", name="readme", mime_type="text/plain")
    def readme() -> str:
        """What this pack is."""
        return "notes: a resource, a template and a prompt"

    @ctx.resource("notes://item/{id}", name="note", mime_type="text/plain", scopes=["notes:secret"])
    def note(id: str) -> str:  # noqa: A002 - the URI template's variable
        """One note by id."""
        return f"note {id}"

    @ctx.prompt()
    def summarize(topic: str) -> list[UserMessage]:
        """Ask for a summary of the notes about `topic`."""
        return [UserMessage(f"Summarize the notes about {topic}.")]

    @ctx.tool(annotations=ToolAnnotations(read_only_hint=True))
    def whoami() -> str:
        """The last four characters of the token this pack was configured with."""
        return settings.token.get_secret_value()[-4:]
