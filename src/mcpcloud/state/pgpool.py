"""A psycopg async pool that can be opened again after it was closed.

The server lifespan may run more than once per process (one per in-process client session),
and a closed psycopg pool cannot reopen, so each `open()` builds a fresh pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool


class PoolNotOpen(Exception):
    pass


class ReopenablePool:
    def __init__(
        self,
        url: str,
        password: str | None,
        *,
        name: str,
        min_size: int,
        max_size: int,
        timeout_seconds: float,
        connect_timeout_seconds: float = 5.0,
        reset: Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]] | None = None,
        configure: Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]] | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {"connect_timeout": max(1, int(connect_timeout_seconds)), "application_name": name}
        if password is not None:
            kwargs["password"] = password
        self.timeout_seconds = timeout_seconds
        self._args: dict[str, Any] = {
            "conninfo": url, "kwargs": kwargs, "min_size": min_size, "max_size": max_size, "timeout": timeout_seconds,
            "check": AsyncConnectionPool.check_connection, "reset": reset, "configure": configure, "open": False,
            "name": name,
        }  # fmt: skip
        self._pool: AsyncConnectionPool | None = None

    async def open(self) -> None:
        self._pool = AsyncConnectionPool(**self._args)
        # wait=False: the server starts even while the database is down; readiness reports it.
        await self._pool.open(wait=False)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def probe(self) -> None:
        """Open and close one connection outside the pool; raises the psycopg error saying why it cannot."""
        conn = await psycopg.AsyncConnection.connect(self._args["conninfo"], **self._args["kwargs"])
        await conn.close()

    @asynccontextmanager
    async def connection(self, timeout: float | None = None) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A pooled connection within `timeout` (default: the pool's); raises `PoolNotOpen`, psycopg_pool's
        `PoolTimeout`, or psycopg errors."""
        if self._pool is None:
            raise PoolNotOpen("the connection pool is not open (server starting or stopping)")
        async with self._pool.connection(timeout=timeout) as conn:
            yield conn
