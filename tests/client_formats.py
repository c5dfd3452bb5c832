"""Each client's documented MCP config format, transcribed as JSON Schema.

Sources (read when this was written):
- Claude Desktop: modelcontextprotocol.io quickstart for users; `claude_desktop_config.json`
  holds `mcpServers.<name>` with `command`, `args`, `env` (local commands only).
- Claude Code: code.claude.com/docs/en/mcp; `.mcp.json` holds `mcpServers.<name>` with
  `type` `stdio` (default; `command`, `args`, `env`) or `http` (`url`, `headers`).
- VS Code: code.visualstudio.com/docs/copilot/reference/mcp-configuration; `mcp.json` holds
  `servers.<name>` (name `^[a-zA-Z][a-zA-Z0-9_-]*$`) with `type` `stdio` (`command`, `args`,
  `env`, `envFile`) or `http`/`sse` (`url`, `headers`), plus optional `inputs`.
- Cursor: cursor.com/docs/mcp; `mcp.json` holds `mcpServers.<name>` with `command`, `args`,
  `env` for a local server or `url`, `headers` for a remote one.
"""

from __future__ import annotations

from typing import Any

_STRINGS = {"type": "array", "items": {"type": "string"}}
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}


def _local(type_field: dict[str, Any] | None = None, required_type: bool = False) -> dict[str, Any]:
    properties: dict[str, Any] = {"command": {"type": "string", "minLength": 1}, "args": _STRINGS, "env": _STRING_MAP}
    required = ["command"]
    if type_field is not None:
        properties["type"] = type_field
        if required_type:
            required.append("type")
    return {"type": "object", "required": required, "properties": properties, "additionalProperties": False}


def _remote(type_field: dict[str, Any] | None, required_type: bool = True) -> dict[str, Any]:
    properties: dict[str, Any] = {"url": {"type": "string", "pattern": "^https?://"}, "headers": _STRING_MAP}
    required = ["url"]
    if type_field is not None:
        properties["type"] = type_field
        if required_type:
            required.append("type")
    return {"type": "object", "required": required, "properties": properties, "additionalProperties": False}


def _document(
    top: str, server: dict[str, Any], name_pattern: str = "^.+$", extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        top: {"type": "object", "patternProperties": {name_pattern: server}, "additionalProperties": False}
    }
    properties.update(extra or {})
    return {"type": "object", "required": [top], "properties": properties}


SCHEMAS: dict[str, dict[str, Any]] = {
    "claude-desktop": _document("mcpServers", _local()),
    "claude-code": _document(
        "mcpServers",
        {"oneOf": [_local({"const": "stdio"}), _remote({"enum": ["http", "sse"]})]},
    ),
    "vscode": _document(
        "servers",
        {
            "oneOf": [
                {
                    **_local({"const": "stdio"}, required_type=True),
                    "properties": {**_local({"const": "stdio"})["properties"], "envFile": {"type": "string"}},
                },
                _remote({"enum": ["http", "sse"]}),
            ]
        },
        name_pattern="^[a-zA-Z][a-zA-Z0-9_-]*$",
        extra={"inputs": {"type": "array"}},
    ),
    "cursor": _document("mcpServers", {"oneOf": [_local(), _remote(None)]}),
}
