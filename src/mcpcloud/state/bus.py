"""Messages between replicas over Redis pub/sub: one subscriber connection per process.

Two kinds travel:
- server events (`ToolsListChanged`, `ResourceUpdated`, ...) broadcast on `<prefix>events`, so a
  change published on one replica reaches the `subscriptions/listen` streams of all of them
  (`RedisSubscriptionBus` is the SDK's `SubscriptionBus` seam over this);
- JSON-RPC messages for one legacy session, sent to `<prefix>replica:<n>`, the replica that holds
  the piece of the session they belong to: a notification for the client's GET stream, or the
  client's reply to a server-to-client request (elicitation, sampling) a tool there awaits;
- a client's `notifications/cancelled`, broadcast on `<prefix>sessions`: which replica runs the
  request is not recorded, so each one offers it to that session's exchanges in flight there.

Each process takes a replica number from `INCR <prefix>replicas` at start; the numbers are what
session records and server-to-client request ids carry to find the way back.
Delivery is at most once: what is published while a replica is down is lost, as the SDK's own
in-memory streams lose it when a client disconnects; clients re-listen and refetch.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio
from mcp.shared.subscriptions import ServerEvent, event_from_wire, event_to_notification

from mcpcloud.state.redis import answering

if TYPE_CHECKING:  # redis loads only where it is configured
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)

SessionSink = Callable[[dict[str, Any]], None]
"""Takes one JSON-RPC message for a session; must not block or raise."""


class Fanout:
    """This process's end of the pub/sub fabric (works in-process only until `run` connects it)."""

    def __init__(self, redis: Redis | None, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self.events_channel = prefix + "events"
        self.sessions_channel = prefix + "sessions"  # to every replica: a client's cancellation
        # Until Redis gives a number: a random one far above the counter, so ids never collide.
        self.replica = (1 << 19) + int.from_bytes(os.urandom(2), "big")
        self._listeners: dict[object, Callable[[ServerEvent], None]] = {}
        self._sinks: dict[str, dict[str, dict[object, SessionSink]]] = {"stream": {}, "reply": {}}

    def replica_channel(self, replica: int) -> str:
        return f"{self.prefix}replica:{replica}"

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Take a replica number and relay what arrives, reconnecting after Redis faults; until cancelled."""
        from redis.exceptions import RedisError

        assert self.redis is not None
        started = False
        while True:
            try:
                if not started:
                    self.replica = int(await self.redis.incr(self.prefix + "replicas")) % (1 << 19)
                async with self.redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(
                        self.events_channel, self.sessions_channel, self.replica_channel(self.replica)
                    )
                    if not started:
                        started = True
                        task_status.started()
                    async for message in pubsub.listen():
                        self._relay(message.get("channel"), message.get("data"))
            except (RedisError, OSError) as exc:
                logger.warning("shared-state bus lost Redis (%s); reconnecting", type(exc).__name__)
                if not started:
                    started = True
                    task_status.started()
                await anyio.sleep(0.5)

    def _relay(self, channel: bytes | None, data: Any) -> None:
        try:
            payload = json.loads(data)
        except (TypeError, ValueError):
            return
        if channel == self.events_channel.encode():
            event = event_from_wire(payload.get("method", ""), payload.get("params"))
            if event is not None:
                self._fan_event(event)
            return
        self._deliver(payload.get("kind"), payload.get("session"), payload.get("message"))

    # --- server events (subscriptions/listen) ---------------------------------------------
    async def publish_event(self, event: ServerEvent) -> None:
        if self.redis is None:
            self._fan_event(event)
            return
        wire = event_to_notification(event, {}).model_dump(by_alias=True, mode="json", exclude_none=True)
        params = {k: v for k, v in (wire.get("params") or {}).items() if k != "_meta"}
        async with answering("subscriptions"):
            await self.redis.publish(self.events_channel, json.dumps({"method": wire["method"], "params": params}))

    def subscribe_events(self, listener: Callable[[ServerEvent], None]) -> Callable[[], None]:
        token = object()
        self._listeners[token] = listener
        return lambda: self._listeners.pop(token, None)  # type: ignore[func-returns-value]

    def _fan_event(self, event: ServerEvent) -> None:
        for listener in list(self._listeners.values()):
            try:
                listener(event)
            except Exception:  # one bad listener must not starve the others
                logger.exception("subscription listener raised; continuing")

    # --- one session's messages -------------------------------------------------------------
    def attach(self, kind: str, session_id: str, sink: SessionSink) -> Callable[[], None]:
        """Receive `kind` ("stream" or "reply") messages of `session_id` arriving at this replica."""
        token = object()
        by_session = self._sinks[kind].setdefault(session_id, {})
        by_session[token] = sink

        def detach() -> None:
            by_session.pop(token, None)
            if not by_session:
                self._sinks[kind].pop(session_id, None)

        return detach

    def holds(self, kind: str, session_id: str) -> bool:
        return bool(self._sinks[kind].get(session_id))

    async def send(self, replica: int, kind: str, session_id: str, message: dict[str, Any]) -> None:
        if replica == self.replica or self.redis is None:
            self._deliver(kind, session_id, message)
            return
        body = json.dumps({"kind": kind, "session": session_id, "message": message})
        async with answering("sessions"):
            await self.redis.publish(self.replica_channel(replica), body)

    async def broadcast(self, kind: str, session_id: str, message: dict[str, Any]) -> None:
        """To `kind` sinks of `session_id` on every replica (this one included, through Redis's echo)."""
        if self.redis is None:
            self._deliver(kind, session_id, message)
            return
        body = json.dumps({"kind": kind, "session": session_id, "message": message})
        async with answering("sessions"):
            await self.redis.publish(self.sessions_channel, body)

    def _deliver(self, kind: Any, session_id: Any, message: Any) -> None:
        sinks = self._sinks.get(kind, {}).get(session_id) if isinstance(kind, str) else None
        if not sinks or not isinstance(message, dict):
            logger.debug("no %s sink for session %s here; message dropped", kind, str(session_id)[:16])
            return
        for sink in list(sinks.values()):
            sink(message)


class RedisSubscriptionBus:
    """The SDK's `SubscriptionBus` over the fan-out: `publish` goes to every replica's listen streams."""

    def __init__(self, fanout: Fanout) -> None:
        self.fanout = fanout

    async def publish(self, event: ServerEvent) -> None:
        await self.fanout.publish_event(event)
        await anyio.lowlevel.checkpoint()

    def subscribe(self, listener: Callable[[ServerEvent], None]) -> Callable[[], None]:
        return self.fanout.subscribe_events(listener)
