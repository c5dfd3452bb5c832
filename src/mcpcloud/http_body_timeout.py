"""A bound on how long a request body may take to arrive.

uvicorn waits for a body for as long as the client keeps the connection open, so a request that
announces `Content-Length: 1000000` and sends ten bytes would hold its connection (and, on the
MCP path, a slot in the drain's in-flight count) forever. After `http.body_timeout_seconds` the
client gets 408 with a JSON-RPC error body and `Connection: close`; the application sees a
disconnect, so nothing half-read is ever run.
"""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcpcloud.http_errors import json_rpc_error_response

DISCONNECT: Message = {"type": "http.disconnect"}


class BodyReadTimeout:
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = {"deadline": None, "body_done": False, "refused": False, "started": False}

        async def timed_receive() -> Message:
            if state["refused"]:
                return DISCONNECT
            if state["body_done"]:
                return await receive()  # after the body: e.g. a stream waiting for the client to go away
            if state["deadline"] is None:
                state["deadline"] = anyio.current_time() + self.seconds
            with anyio.move_on_at(state["deadline"]):
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body", False):
                    state["body_done"] = True
                return message
            state["refused"] = True
            if not state["started"]:
                response = json_rpc_error_response(
                    408,
                    f"request body not received within {self.seconds:g} s (it is shorter than its Content-Length?)",
                    headers={"Connection": "close"},
                )
                await response(scope, receive, send)
            return DISCONNECT

        async def guarded_send(message: Message) -> None:
            if state["refused"]:
                return  # the application's late answer to a request already refused
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        await self.app(scope, timed_receive, guarded_send)
