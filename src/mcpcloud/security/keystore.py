"""Where API key records live: a JSON file (one server, or a mounted Kubernetes Secret) or Redis.

Only hashes and metadata are stored; the key itself is shown once, when it is created.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # redis is imported only where a Redis backend is configured (stdio cold start)
    from redis.asyncio import Redis

from mcpcloud.config import Settings
from mcpcloud.errors import ConfigError
from mcpcloud.state.redis import answering


@dataclass(frozen=True)
class KeyRecord:
    id: str
    name: str
    scopes: tuple[str, ...]
    hash: str
    created_at: str
    expires_at: str | None = None
    revoked_at: str | None = None

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["scopes"] = list(self.scopes)
        return data

    @classmethod
    def from_json(cls, data: dict[str, object]) -> KeyRecord:
        return cls(**{**data, "scopes": tuple(data.get("scopes") or ())})  # type: ignore[arg-type]

    def public(self) -> dict[str, object]:
        """What `keys list` shows: everything but the hash."""
        return {k: v for k, v in self.to_json().items() if k != "hash"}

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and datetime.fromisoformat(self.expires_at) <= now


class KeyStore(Protocol):
    async def get(self, key_id: str) -> KeyRecord | None: ...
    async def add(self, record: KeyRecord) -> None: ...
    async def all(self) -> list[KeyRecord]: ...
    async def replace(self, record: KeyRecord) -> None: ...
    async def aclose(self) -> None: ...


class FileKeyStore:
    """A JSON file, re-read when it changes (so a rotated Secret is picked up without a restart)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._records: dict[str, KeyRecord] = {}

    async def get(self, key_id: str) -> KeyRecord | None:
        return self._load().get(key_id)

    async def all(self) -> list[KeyRecord]:
        return list(self._load().values())

    async def add(self, record: KeyRecord) -> None:
        with self._locked():
            records = self._load()
            records[record.id] = record
            self._write(records)

    async def replace(self, record: KeyRecord) -> None:
        await self.add(record)

    async def aclose(self) -> None:
        pass

    def _load(self) -> dict[str, KeyRecord]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._records = None, {}
            return self._records
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                records = {r["id"]: KeyRecord.from_json(r) for r in data.get("keys", [])}
            except (OSError, ValueError, TypeError, KeyError) as exc:
                raise ConfigError(f"auth.api_keys.file: {str(self.path)!r} is not a readable key file: {exc}") from None
            self._stamp, self._records = stamp, records
        return self._records

    def _write(self, records: dict[str, KeyRecord]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"version": 1, "keys": [r.to_json() for r in records.values()]}, indent=2)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".mcpcloud-keys.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(body + "\n")
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._stamp = None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(f"{self.path}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._stamp = None
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


class RedisKeyStore:
    """One Redis hash, `<prefix>apikeys`: key id -> JSON record. Every replica sees revocations at once."""

    def __init__(self, redis: Redis, prefix: str, retry_after: int = 5) -> None:
        self.redis = redis
        self.key = prefix + "apikeys"
        self.retry_after = retry_after

    async def get(self, key_id: str) -> KeyRecord | None:
        async with answering("api keys", self.retry_after):
            raw = await self.redis.hget(self.key, key_id)
        return KeyRecord.from_json(json.loads(raw)) if raw else None

    async def all(self) -> list[KeyRecord]:
        async with answering("api keys", self.retry_after):
            rows = await self.redis.hgetall(self.key)
        return [KeyRecord.from_json(json.loads(raw)) for raw in rows.values()]

    async def add(self, record: KeyRecord) -> None:
        async with answering("api keys", self.retry_after):
            await self.redis.hset(self.key, record.id, json.dumps(record.to_json()))

    async def replace(self, record: KeyRecord) -> None:
        await self.add(record)

    async def aclose(self) -> None:
        await self.redis.aclose()


def key_store(settings: Settings) -> KeyStore:
    """The store `auth.api_keys.store` names: the JSON file, or Redis (shared by every replica)."""
    if settings.auth.api_keys.store == "redis":
        from mcpcloud.state.redis import redis_client

        return RedisKeyStore(
            redis_client(settings.redis), settings.redis.key_prefix, settings.redis.retry_after_seconds
        )
    return FileKeyStore(Path(settings.auth.api_keys.file))
