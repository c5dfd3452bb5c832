"""Tools the fast path calls directly, each prepared once: what the SDK's `Tool.run` does per call.

`MCPServer` validates a call's arguments with the tool's argument model, calls the function
(a sync one on a worker thread), and converts the result; every failure becomes an `isError`
result whose text starts `Error executing tool <name>` (a crash's own text stays in the log).
`FastTool` does the same with everything that does not depend on the call computed at startup:
the compiled pydantic validator, the keyword names, which arguments may arrive JSON-encoded.

A tool that takes the request `Context` (notifications, sampling, elicitation) or uses
resolvers is not prepared: those calls go through the SDK.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import anyio
from mcp.server.mcpserver.exceptions import ResourceError, ToolError, UnexpectedResourceError, UnexpectedToolError
from mcp.server.mcpserver.tools.base import Tool
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent
from pydantic import ValidationError

logger = logging.getLogger("mcpcloud.fastpath")

Shape = Callable[[Any], dict[str, Any]]
"""The SDK runner's shaping of a handler result for the wire (cache hints, the result sieve, the serverInfo stamp)."""

_PROBE = "\x00mcpcloud-fastpath-probe\x00"


def _unconstrained_text(output_schema: dict[str, Any] | None) -> bool:
    """No output schema, or the one `-> str` gets: `{"result": <any string>}`."""
    if output_schema is None:
        return True
    result = output_schema.get("properties", {}).get("result", {})
    return (
        set(output_schema.get("properties", {})) == {"result"}
        and set(result) <= {"title", "type"}
        and (result.get("type") == "string")
    )


def _substitute(template: Any, text: str) -> Any:
    """A fresh copy of `template` with every probe string replaced by `text`."""
    if type(template) is dict:
        return {key: _substitute(value, text) for key, value in template.items()}
    if type(template) is list:
        return [_substitute(value, text) for value in template]
    return text if template == _PROBE else template


class FastTool:
    def __init__(self, tool: Tool) -> None:
        metadata = tool.fn_metadata
        model = metadata.arg_model
        self.name = tool.name
        self.tool = tool
        self._fn: Callable[..., Any] = tool.fn
        self._is_async = tool.is_async
        self._validate = model.__pydantic_validator__.validate_python
        self._keywords = tuple((name, info.alias or name) for name, info in model.model_fields.items())
        # Only these arguments may arrive as JSON text the SDK decodes first (`FuncMetadata.pre_parse_json`).
        self._maybe_json = frozenset(
            key
            for name, info in model.model_fields.items()
            if info.annotation is not str
            for key in (name, info.alias)
            if key
        )
        self._pre_parse = metadata.pre_parse_json
        self._convert = metadata.convert_result
        # Until a text result's template fails to reproduce the SDK's answer; never when the declared output
        # constrains the text (`Annotated[str, Field(max_length=...)]`: the SDK validates every result).
        self._text_shortcut = _unconstrained_text(metadata.output_schema)
        self._text_templates: dict[str, dict[str, Any]] = {}  # by protocol version

    @staticmethod
    def prepares(tool: Tool) -> bool:
        """A function tool the SDK runs with its own `Tool.run` (not, e.g., a remote tool that forwards)."""
        return type(tool).run is Tool.run and tool.context_kwarg is None and not tool.resolved_params

    async def call(self, arguments: dict[str, Any], version: str, shape: Shape) -> dict[str, Any]:
        """The wire result, exactly as `MCPServer` answers the call and the SDK's runner shapes it (`shape`)."""
        try:
            result = await self._run(arguments)
        except MCPError:
            raise
        except Exception as exc:
            # MCPServer._handle_call_tool: the exception's message becomes the isError text.
            if isinstance(exc, ToolError) and not isinstance(exc, UnexpectedToolError):
                logger.info("Tool %r failed: %r", self.name, str(exc))
            else:
                logger.exception("Tool %r raised an unexpected exception", self.name)
            return shape(CallToolResult(content=[TextContent(type="text", text=str(exc))], is_error=True))
        if type(result) is str:
            return self._text_result(result, version, shape)
        return shape(result)

    def _text_result(self, text: str, version: str, shape: Shape) -> dict[str, Any]:
        """A text result without the SDK's per-call conversion and result validation (~80 µs), once proven equal.

        The first text result goes the SDK's way (`convert_result`, then `shape`); a template is made
        from the SDK's answer for a probe text and kept only if it reproduces that first answer exactly.
        """
        template = self._text_templates.get(version)
        if template is not None:
            return _substitute(template, text)
        shaped = shape(self._convert(text))
        template = shape(self._convert(_PROBE))
        if _substitute(template, text) == shaped:
            self._text_templates[version] = template
        else:
            self._text_shortcut = False
        return shaped

    async def _run(self, arguments: dict[str, Any]) -> Any:
        # Tool.run, step for step: the same exception types and messages.
        try:
            kwargs = self._arguments(arguments)
        except ValidationError as exc:
            raise ToolError(f"Error executing tool {self.name}: {exc}") from exc
        except MCPError:
            raise
        except Exception as exc:
            raise UnexpectedToolError(f"Error executing tool {self.name}") from exc
        try:
            if self._is_async:
                result = await self._fn(**kwargs)
            else:
                result = await anyio.to_thread.run_sync(partial(self._fn, **kwargs))
            # A text result is converted in `call`, after the shortcut check (converting text cannot fail).
            return result if type(result) is str and self._text_shortcut else self._convert(result)
        except MCPError:
            raise
        except (UnexpectedToolError, UnexpectedResourceError) as exc:
            raise UnexpectedToolError(f"Error executing tool {self.name}: {exc}") from exc
        except (ToolError, ResourceError) as exc:
            raise ToolError(f"Error executing tool {self.name}: {exc}") from exc
        except Exception as exc:
            raise UnexpectedToolError(f"Error executing tool {self.name}") from exc

    def _arguments(self, arguments: dict[str, Any]) -> dict[str, Any]:
        if self._maybe_json and any(type(v) is str and k in self._maybe_json for k, v in arguments.items()):
            arguments = self._pre_parse(arguments)
        model = self._validate(arguments)
        return {keyword: getattr(model, name) for name, keyword in self._keywords}


class FastTools:
    """The prepared tools, rebuilt when the server's tool set changes (a tool added, removed or replaced)."""

    def __init__(self, tools: dict[str, Tool]) -> None:
        self._source = tools  # the SDK ToolManager's own dict: compared by identity, never copied
        self._seen: tuple[Tool, ...] = ()
        self._prepared: dict[str, FastTool] = {}

    def current(self) -> dict[str, FastTool]:
        seen = self._seen
        tools = self._source
        if len(tools) != len(seen) or any(a is not b for a, b in zip(tools.values(), seen, strict=False)):
            self._seen = tuple(tools.values())
            self._prepared = {t.name: FastTool(t) for t in self._seen if FastTool.prepares(t)}
        return self._prepared
