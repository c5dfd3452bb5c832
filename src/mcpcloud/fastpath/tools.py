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

    @staticmethod
    def prepares(tool: Tool) -> bool:
        return tool.context_kwarg is None and not tool.resolved_params

    async def call(self, arguments: dict[str, Any]) -> Any:
        """The tool's `CallToolResult` (or `InputRequiredResult`), exactly as `MCPServer` answers the call."""
        try:
            return await self._run(arguments)
        except MCPError:
            raise
        except Exception as exc:
            # MCPServer._handle_call_tool: the exception's message becomes the isError text.
            if isinstance(exc, ToolError) and not isinstance(exc, UnexpectedToolError):
                logger.info("Tool %r failed: %r", self.name, str(exc))
            else:
                logger.exception("Tool %r raised an unexpected exception", self.name)
            return CallToolResult(content=[TextContent(type="text", text=str(exc))], is_error=True)

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
            return self._convert(result)
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
