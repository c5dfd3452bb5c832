"""One upstream MCP server: the connection, its tool list, and calls to it.

The connection is the SDK's own client (`mcp.Client` over Streamable HTTP), so the hop speaks
whatever the remote speaks: the 2026-07-28 revision when the remote offers it, the handshake
era otherwise (`mode = "auto"`). A supervisor task owns the connection: it connects, lists the
tools, keeps the list fresh (on the remote's list-change signal, and again when the TTL the
remote advertised runs out), and reconnects with a growing pause when the remote goes away.
A remote that is down never holds back the local tools.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, Literal

import anyio
import httpx2
from mcp.client import Client
from mcp.client.session import IncomingMessage
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import (
    CONNECTION_CLOSED,
    CallToolResult,
    Implementation,
    InputRequiredResult,
    ListToolsResult,
    Tool,
    ToolListChangedNotification,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from mcpcloud import __version__
from mcpcloud.config import RemoteSettings
from mcpcloud.remotes.credentials import HopCredential
from mcpcloud.remotes.parking import Parking
from mcpcloud.remotes.relay import LocalCall, Questions, current_call

logger = logging.getLogger("mcpcloud.remotes")
logging.getLogger("httpx2").setLevel(logging.WARNING)  # one INFO line per hop request is noise, not news

Status = Literal["connecting", "up", "down"]
ToolsListener = Callable[[str, list[Tool]], Awaitable[None]]
_LIST_PAGE_CAP = 100


class RemoteUnavailable(Exception):
    """The remote cannot take a call now; the message says why and that mcpcloud keeps trying."""


@dataclass
class RemoteState:
    status: Status = "connecting"
    detail: str = "not connected yet"
    era: str | None = None
    since: float = 0.0

    def describe(self) -> str:
        era = f", protocol {self.era}" if self.era else ""
        return f"{self.status}{era}: {self.detail}"


def describe_failure(exc: BaseException) -> str:
    """A short, secret-free line for a failed connect or call."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(describe_failure(inner) for inner in exc.exceptions[:3])
    if isinstance(exc, MCPError):
        return f"remote answered error {exc.error.code}: {exc.error.message}"
    if isinstance(exc, httpx2.HTTPStatusError):
        return f"HTTP {exc.response.status_code} from the remote"
    if isinstance(exc, (httpx2.TransportError, OSError)):
        return f"cannot reach the remote ({type(exc).__name__}: {exc})"
    if isinstance(exc, TimeoutError):
        return "the remote did not answer in time"
    return f"{type(exc).__name__}: {exc}"


def hop_failed(exc: MCPError) -> bool:
    """The SDK client's own "the connection is gone" error, as opposed to an error the remote sent."""
    return exc.error.code == CONNECTION_CLOSED and exc.error.message == "Connection closed"


class SessionWatch:
    """Counts HTTP 404 answers to requests that carried our session id: the remote forgot the session.

    The SDK client reports such a 404 as whatever JSON-RPC error the body holds (the SDK server
    says "Session not found", others say nothing), so the status is read where it is still seen.
    """

    def __init__(self) -> None:
        self.lost = 0

    async def __call__(self, response: httpx2.Response) -> None:
        if response.status_code == 404 and "mcp-session-id" in response.request.headers:
            self.lost += 1


class Upstream:
    def __init__(
        self, name: str, settings: RemoteSettings, on_tools: ToolsListener, state_dir: str | None = None
    ) -> None:
        self.name = name
        self.state_dir = state_dir
        self.settings = settings
        self.on_tools = on_tools
        self.state = RemoteState(since=time.monotonic())
        self.questions = Questions(name)
        self.client: Client | None = None
        self.sessions = SessionWatch()
        self.parking = Parking(name, settings.timeout_seconds)
        self._changed = anyio.Event()  # a new connection, or a lost one
        self._relist = anyio.Event()
        self._reconnect = anyio.Event()
        self._ttl_seconds: float | None = None

    # -- the supervisor -------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, list, watch; on failure wait and try again. Runs until cancelled."""
        async with anyio.create_task_group() as self.parking.task_group:
            await self._supervise()

    async def _supervise(self) -> None:
        pause = 0.2
        while True:
            try:
                async with AsyncExitStack() as stack:
                    client = await self._connect(stack)
                    self._set_client(client, "up", "connected")
                    pause = 0.2
                    await self._watch(client)
            except anyio.get_cancelled_exc_class():
                raise
            except BaseException as exc:  # every failure is a state to report, then a reconnect
                if not isinstance(exc, Exception | BaseExceptionGroup):
                    raise
                self._set_client(None, "down", describe_failure(exc))
                logger.warning("remote %s: %s; retrying in %.1f s", self.name, self.state.detail, pause)
            else:
                self._set_client(None, "connecting", "reconnecting")
            await anyio.sleep(pause)
            pause = min(pause * 2, self.settings.retry_seconds)

    async def _connect(self, stack: AsyncExitStack) -> Client:
        if self.settings.auth == "oauth":
            from mcpcloud.remotes.oauth import require_stored_login

            await require_stored_login(self.name, self.settings, self.state_dir)
        client = await open_client(
            stack,
            self.settings,
            hop_auth(self.name, self.settings, HopCredential(self.settings, self.name), self.state_dir),
            self.sessions,
            elicitation_callback=self.questions,
            message_handler=self._on_message,
        )
        self.state.era = client.protocol_version
        return client

    async def _watch(self, client: Client) -> None:
        """List now; list again on a change signal or when the advertised TTL runs out; until told to reconnect."""
        async with anyio.create_task_group() as tg:
            if client.protocol_version in MODERN_PROTOCOL_VERSIONS:
                tg.start_soon(self._listen, client)
            while not self._reconnect.is_set():
                self._relist = anyio.Event()
                await self.on_tools(self.name, await self._list(client))
                with anyio.move_on_after(self._ttl_seconds if self._ttl_seconds else float("inf")):
                    await _first_of(self._relist, self._reconnect)
            tg.cancel_scope.cancel()
        self._reconnect = anyio.Event()

    async def _listen(self, client: Client) -> None:
        """2026-07-28: list changes arrive on a `subscriptions/listen` stream."""
        try:
            async with client.listen(tools_list_changed=True) as subscription:
                async for _event in subscription:
                    logger.info("remote %s: tool list changed; listing again", self.name)
                    self._relist.set()
        except Exception as exc:  # noqa: BLE001 - a remote without listen still works; TTL refreshes its list
            logger.info("remote %s: no list-change stream (%s)", self.name, describe_failure(exc))

    async def _on_message(self, message: IncomingMessage) -> None:
        if isinstance(message, ToolListChangedNotification):
            logger.info("remote %s: tool list changed; listing again", self.name)
            self._relist.set()

    async def _list(self, client: Client) -> list[Tool]:
        tools, ttl_ms = await list_all_tools(client)
        self._ttl_seconds = (ttl_ms or 0) / 1000 or None
        return tools

    def _set_client(self, client: Client | None, status: Status, detail: str) -> None:
        self.client = client
        self.state = RemoteState(
            status, detail, self.state.era if client is None else client.protocol_version, time.monotonic()
        )
        self._changed.set()
        self._changed = anyio.Event()

    def lost(self) -> None:
        """A call failed below MCP (connection reset, remote gone): reconnect, which also updates the state."""
        self._reconnect.set()

    # -- calls ----------------------------------------------------------------------------------

    async def call(
        self, tool: str, arguments: dict[str, Any], local: LocalCall
    ) -> CallToolResult | InputRequiredResult:
        """Call `tool` on the remote for `local`; a forgotten session is re-initialized once, transparently."""
        if local.modern and Parking.resumes(local.request_state):
            return await self.parking.resume(local)
        client = self._live_client()
        if local.modern and client.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            # The remote may ask mid-call, which this local client can only answer by calling again.
            return await self.parking.start(local, lambda parked: self._call_retrying(tool, arguments, parked))
        return await self._call_retrying(tool, arguments, local)

    async def _call_retrying(
        self, tool: str, arguments: dict[str, Any], local: LocalCall
    ) -> CallToolResult | InputRequiredResult:
        client = self._live_client()
        lost_before = self.sessions.lost
        try:
            return await self._call_once(client, tool, arguments, local)
        except MCPError:
            if self.sessions.lost == lost_before:
                raise
            logger.info("remote %s: session gone (remote restarted?); reconnecting once", self.name)
        client = await self._fresh_client(client)
        return await self._call_once(client, tool, arguments, local)

    def _live_client(self) -> Client:
        if self.client is None:
            raise RemoteUnavailable(
                f"remote {self.name!r} is unavailable ({self.state.detail}); mcpcloud keeps reconnecting, try again later"
            )
        return self.client

    async def _fresh_client(self, stale: Client) -> Client:
        if self.client is stale:
            self._reconnect.set()
        with anyio.move_on_after(self.settings.timeout_seconds):
            while self.client is None or self.client is stale:
                await self._changed.wait()
        return self._live_client() if self.client is not stale else self._unavailable()

    def _unavailable(self) -> Client:
        raise RemoteUnavailable(f"remote {self.name!r} did not come back after it forgot our session; try again later")

    async def _call_once(
        self, client: Client, tool: str, arguments: dict[str, Any], local: LocalCall
    ) -> CallToolResult | InputRequiredResult:
        key = id(local)
        self.questions.in_flight[key] = local
        token = current_call.set(local)
        try:
            if local.modern and client.protocol_version in MODERN_PROTOCOL_VERSIONS:
                # Both sides speak 2026-07-28: an input_required round goes to the local client as it is,
                # and its answer (input responses, the remote's request state) comes back on the retry.
                return await client.session.call_tool(
                    tool,
                    arguments,
                    progress_callback=local.progress,
                    input_responses=local.input_responses,
                    request_state=local.request_state,
                    allow_input_required=True,
                )
            return await client.call_tool(tool, arguments, progress_callback=local.progress)
        finally:
            current_call.reset(token)
            self.questions.in_flight.pop(key, None)


def hop_auth(name: str, settings: RemoteSettings, headers: HopCredential, state_dir: str | None) -> httpx2.Auth:
    """Static headers (reloaded on 401), or OAuth with the configured headers added."""
    if settings.auth != "oauth":
        return headers
    from mcpcloud.remotes.oauth import oauth_credential

    return oauth_credential(name, settings, state_dir, headers=headers.headers)


async def open_client(
    stack: AsyncExitStack,
    settings: RemoteSettings,
    credential: httpx2.Auth,
    sessions: SessionWatch | None = None,
    **callbacks: Any,
) -> Client:
    """The SDK client for one remote, connected (era negotiated), closed with `stack`."""
    http = create_mcp_http_client(
        auth=credential, timeout=httpx2.Timeout(min(30.0, settings.timeout_seconds), read=300.0)
    )
    if sessions is not None:
        http.event_hooks["response"].append(sessions)
    await stack.enter_async_context(http)
    client = Client(
        streamable_http_client(settings.url, http_client=http),
        mode=settings.mode,
        read_timeout_seconds=settings.timeout_seconds,
        client_info=Implementation(name="mcpcloud", version=__version__),
        cache=None,  # the tool list is kept by the caller, for the TTL the remote advertises
        **callbacks,
    )
    # No cancel scope around this: the client's task group lives on after the handshake,
    # which read_timeout_seconds bounds instead.
    await stack.enter_async_context(client)
    return client


async def list_all_tools(client: Client) -> tuple[list[Tool], int | None]:
    """Every page of the remote's tool list, and the shortest TTL (ms) the pages advertised."""
    tools: list[Tool] = []
    cursor: str | None = None
    ttl_ms: int | None = None
    for _ in range(_LIST_PAGE_CAP):
        page: ListToolsResult = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        ttl_ms = page.ttl_ms if ttl_ms is None else min(ttl_ms, page.ttl_ms)
        cursor = page.next_cursor
        if cursor is None:
            break
    return tools, ttl_ms


async def probe(
    name: str, settings: RemoteSettings, auth: httpx2.Auth | None = None, state_dir: str | None = None
) -> tuple[str, list[Tool]]:
    """Connect once, list, disconnect: the negotiated protocol version and the remote's tools."""
    async with AsyncExitStack() as stack:
        auth = auth or hop_auth(name, settings, HopCredential(settings, name), state_dir)
        client = await open_client(stack, settings, auth)
        tools, _ = await list_all_tools(client)
        return client.protocol_version, tools


async def _first_of(*events: anyio.Event) -> None:
    async with anyio.create_task_group() as tg:
        for event in events:

            async def wait(event: anyio.Event = event) -> None:
                await event.wait()
                tg.cancel_scope.cancel()

            tg.start_soon(wait)
