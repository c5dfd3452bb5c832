"""The glue between remotes and the server: the one place remote tools are added and removed.

Remote tools are registered like any pack's tools, in the SDK server's tool table and in
mcpcloud's `ToolRegistry` (scopes, audit, limits, timeouts all read it), so every remote call
goes through the same pipeline as a local one, and the same human approval (`approved.py`).
What differs is only that the set changes while the server runs: `RemoteMount.apply` swaps one
remote's tools for its fresh listing, then tells the local clients that the list changed.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
from mcp.server import MCPServer
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel.server import NotificationOptions
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools.base import Tool as ServerTool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ToolsListChanged
from mcp_types import REQUEST_TIMEOUT, Tool, ToolAnnotations
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, Field

from mcpcloud.approval import Approvals
from mcpcloud.config import RemoteSettings, Settings
from mcpcloud.core.registry import ToolPolicy, ToolRegistry, default_scopes
from mcpcloud.health import Health
from mcpcloud.remotes.approved import Answers, guarded
from mcpcloud.remotes.naming import default_prefix, local_names, selected
from mcpcloud.remotes.pins import PinStore, Withheld, definition, digest, pin_store
from mcpcloud.remotes.relay import LocalCall
from mcpcloud.remotes.upstream import RemoteUnavailable, Upstream, describe_failure, hop_failed

logger = logging.getLogger("mcpcloud.remotes")

TOOLS_LIST = "tools/list"
MAX_LISTENERS = 10_000


def pack_of(remote: str) -> str:
    """The pack label of a remote's tools: names its default scopes (`remotes.team:read`) and its audit records."""
    return f"remotes.{remote}"


class RemoteTool(ServerTool):
    """An SDK tool whose body is a call to the remote; the remote validates the arguments."""

    forward: Callable[..., Any] = Field(exclude=True)

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        return await self.forward(arguments, context)


class RemoteMount:
    def __init__(
        self, settings: Settings, mcp: MCPServer[Any], registry: ToolRegistry, pins: PinStore, approvals: Approvals
    ) -> None:
        self.remotes = settings.remotes
        self.approvals = approvals
        self.mcp = mcp
        self.registry = registry
        self.pins = pins
        self.upstreams = {
            name: Upstream(name, remote, self.apply, settings.state_dir) for name, remote in self.remotes.items()
        }
        # remote -> local name -> digest of what is offered under it (a change is what tells clients)
        self.offered: dict[str, dict[str, str]] = {name: {} for name in self.remotes}
        self.withheld: dict[str, tuple[str, Withheld]] = {}  # local name -> (remote, why)
        self.listings: dict[str, list[Tool]] = {}
        self._listeners: dict[int, Any] = {}  # handshake-era sessions that listed since the last announcement
        self._lock = anyio.Lock()
        for name, remote in self.remotes.items():
            registry.reserve(self.prefix(name, remote), pack_of(name))

    @staticmethod
    def prefix(name: str, remote: RemoteSettings) -> str:
        return remote.prefix if remote.prefix is not None else default_prefix(name)

    # -- the tool set ----------------------------------------------------------------------------

    async def apply(self, remote: str, listed: list[Tool]) -> None:
        """Replace `remote`'s tools with this listing: filters first, then pins, then local names."""
        async with self._lock:
            settings = self.remotes[remote]
            self.listings[remote] = listed
            wanted = [tool for tool in listed if selected(tool.name, settings.tools, settings.exclude_tools)]
            offered, withheld = self.pins.review(remote, wanted)
            by_name = {tool.name: tool for tool in wanted}
            taken = {name for name in self.registry.tools if name not in self.offered[remote]}
            names = local_names(remote, self.prefix(remote, settings), [t.name for t in wanted], taken)
            before = dict(self.offered[remote])
            self._remove(remote)
            for tool in offered:
                self._add(remote, names[tool.name], tool, self._forwarder(remote, names[tool.name], tool))
            for item in withheld:
                local = names[item.name]
                self.withheld[local] = (remote, item)
                self._add(remote, local, by_name[item.name], partial(self.refuse, local))
                logger.warning(
                    "remote %s: tool %r withheld (%s); review with `mcpcloud remotes approve %s`",
                    remote,
                    item.name,
                    item.reason,
                    remote,
                )
            changed = before != self.offered[remote]
        if changed:
            await self.announce()

    def _remove(self, remote: str) -> None:
        for local in self.offered[remote]:
            self.registry.remove(local)
            self.mcp.remove_tool(local)
            self.withheld.pop(local, None)
        self.offered[remote] = {}

    def _add(self, remote: str, local: str, tool: Tool, forward: Callable[..., Any]) -> None:
        settings = self.remotes[remote]
        annotations = tool.annotations or ToolAnnotations()
        scopes = tuple(settings.scopes) if settings.scopes is not None else default_scopes(pack_of(remote), annotations)
        server_tool = RemoteTool(
            fn=_never_called,
            forward=forward,
            name=local,
            title=tool.title,
            description=tool.description or "",
            parameters=tool.input_schema,
            fn_metadata=FuncMetadata(arg_model=ArgModelBase, output_schema=tool.output_schema),
            is_async=True,
            annotations=tool.annotations,
            icons=tool.icons,
            meta=tool.meta,
        )
        # The SDK builds tools from Python functions only; a remote tool's schema is the remote's, as listed.
        self.mcp._tool_manager._tools[local] = server_tool
        self.registry.add(ToolPolicy(name=local, pack=pack_of(remote), scopes=scopes, annotations=annotations))
        self.offered[remote][local] = digest(definition(tool)) + ("" if local not in self.withheld else ":withheld")

    def _forwarder(self, remote: str, local: str, tool: Tool) -> Callable[..., Any]:
        """The body of an offered remote tool: the call, behind the person's approval where that applies."""
        annotations = tool.annotations or ToolAnnotations()
        return guarded(self.approvals, partial(self.forward, remote, tool.name), remote, tool.name, local, annotations)

    async def forward(
        self, remote: str, upstream_name: str, arguments: dict[str, Any], context: Any, answers: Answers | None = None
    ) -> Any:
        try:
            return await self.upstreams[remote].call(upstream_name, arguments, LocalCall(context, answers))
        except MCPError as exc:
            if exc.error.code == REQUEST_TIMEOUT:
                seconds = self.remotes[remote].timeout_seconds
                raise ToolError(
                    f"remote {remote!r} did not answer within {seconds:g} s; the call was cancelled"
                ) from None
            if not hop_failed(exc):
                raise  # the remote's own protocol error (e.g. invalid params) reaches the caller unchanged
            self.upstreams[remote].lost()
            raise ToolError(
                f"remote {remote!r} went away during the call ({exc.error.message}); "
                "mcpcloud is reconnecting, try again"
            ) from None
        except RemoteUnavailable as exc:
            raise ToolError(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - anything below MCP is the hop failing: say so, reconnect
            self.upstreams[remote].lost()
            raise ToolError(f"remote {remote!r} failed: {describe_failure(exc)}") from None

    async def refuse(self, local: str, arguments: dict[str, Any], context: Any) -> Any:
        remote, item = self.withheld[local]
        if self.pins.pins(remote).get(item.name, {}).get("sha256") == digest(item.seen):
            # Approved (by `mcpcloud remotes approve`) since it was withheld: offer it and make this call.
            await self.apply(remote, self.listings[remote])
            tool = next(tool for tool in self.listings[remote] if tool.name == item.name)
            return await self._forwarder(remote, local, tool)(arguments, context)
        raise ToolError(
            f"tool {local!r} of remote {remote!r} is withheld: {item.reason}. Review the change and approve it with "
            f"`mcpcloud remotes approve {remote}`; once approved it is offered again, no restart needed"
        )

    # -- telling local clients -----------------------------------------------------------------

    async def announce(self) -> None:
        """Tell every local client that the tool list changed (both eras)."""
        logger.info("tool list changed; telling %d handshake-era client(s) and any listeners", len(self._listeners))
        await self.mcp._subscriptions.publish(ToolsListChanged())  # 2026-07-28: subscriptions/listen streams
        sessions, self._listeners = list(self._listeners.values()), {}
        for session in sessions:  # handshake era: each client that listed gets one notification
            try:
                await session.send_tool_list_changed()
            except Exception as exc:  # noqa: BLE001 - a client that went away is no reason to stop
                logger.debug("tools/list_changed not delivered: %s", exc)

    async def stage(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Pipeline stage: hides withheld tools from listings, and remembers who listed (to notify them)."""
        if ctx.method != TOOLS_LIST:
            return await call_next(ctx)
        if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS and len(self._listeners) < MAX_LISTENERS:
            # One entry per connection: the SDK's per-request session object shares the connection's handshake.
            self._listeners[id(ctx.session.client_params)] = ctx.session
        return _without(await call_next(ctx), set(self.withheld))

    # -- lifetime and health ---------------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tg:
            for upstream in self.upstreams.values():
                tg.start_soon(upstream.run)
            try:
                yield
            finally:
                tg.cancel_scope.cancel()

    def readiness(self, remote: str) -> Callable[[], Any]:
        upstream = self.upstreams[remote]

        async def check() -> str:
            held = sum(1 for r, _ in self.withheld.values() if r == remote)
            detail = f"{upstream.state.describe()}; {len(self.offered[remote]) - held} tools"
            if held:
                detail += f", {held} withheld until approved"
            if upstream.state.status != "up" and self.remotes[remote].required:
                raise RemoteUnavailable(f"required, {detail}")
            return detail if upstream.state.status == "up" else f"optional, {detail}"

        return check


def _without(result: HandlerResult, hidden: set[str]) -> HandlerResult:
    if not hidden:
        return result
    if isinstance(result, BaseModel) and hasattr(result, "tools"):
        return result.model_copy(update={"tools": [t for t in result.tools if t.name not in hidden]})  # type: ignore[attr-defined]
    if isinstance(result, dict) and isinstance(result.get("tools"), list):
        return {**result, "tools": [t for t in result["tools"] if t.get("name") not in hidden]}
    return result


async def _never_called(**_: Any) -> None:  # pragma: no cover - RemoteTool.run replaces the function call
    raise AssertionError("a remote tool is run by RemoteTool.run")


def mount_remotes(
    settings: Settings, mcp: MCPServer[Any], registry: ToolRegistry, health: Health, approvals: Approvals
) -> RemoteMount:
    """Wire `[remotes.*]` into a server being built; returns the mount, whose `running()` the lifespan enters."""
    mount = RemoteMount(settings, mcp, registry, pin_store(settings.state_dir), approvals)
    for name in settings.remotes:
        health.checks[pack_of(name)] = mount.readiness(name)
    mcp.middleware.append(mount.stage)
    # Remote tools come and go, so the handshake advertises tools.listChanged (the SDK's default is off).
    lowlevel = mcp._lowlevel_server
    lowlevel.create_initialization_options = partial(  # type: ignore[method-assign]
        lowlevel.create_initialization_options, NotificationOptions(tools_changed=True)
    )
    return mount
