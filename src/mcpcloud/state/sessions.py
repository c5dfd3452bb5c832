"""Legacy-era session records shared by every replica (Redis).

A record is what any replica needs to serve the next request of a session it did not open:
the negotiated protocol version, the client's `initialize` params (capabilities), the principal
the session is bound to, and where the client's standalone GET stream is (a replica number).
Each record lives `idle_timeout` past its last request (Redis expiry, refreshed on every use);
`<prefix>sessions:<principal>` keeps one principal's sessions with their expiry, so the
per-principal cap counts only live ones. Both are changed by one Lua script each, atomically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcpcloud.state.redis import answering

if TYPE_CHECKING:  # redis loads only where it is configured
    from redis.asyncio import Redis

FEATURE = "sessions"


@dataclass(frozen=True)
class SessionRecord:
    id: str
    principal: str
    protocol_version: str
    client_params: dict[str, Any] | None
    stream_replica: int | None = None


@dataclass(frozen=True)
class CapReached:
    """Opening a session was refused: `open_sessions` of the principal's `cap` are in use."""

    open_sessions: int
    cap: int


# KEYS: record, principal index. ARGV: now_ms, ttl_ms, cap, sid, then field/value pairs.
_CREATE = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local open = redis.call('ZCARD', KEYS[2])
if open >= tonumber(ARGV[3]) then return open end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[4])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]))
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return -1
"""

# KEYS: record. ARGV: now_ms, ttl_ms, prefix of the principal index. Returns the record, refreshed.
_TOUCH = """
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return fields end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
for i = 1, #fields, 2 do
  if fields[i] == 'principal' then
    local index = ARGV[3] .. fields[i + 1]
    redis.call('ZADD', index, 'XX', tonumber(ARGV[1]) + tonumber(ARGV[2]), ARGV[4])
    redis.call('PEXPIRE', index, tonumber(ARGV[2]))
  end
end
return fields
"""


class RedisSessionStore:
    def __init__(
        self, redis: Redis, prefix: str, idle_timeout_seconds: float, max_per_principal: int, retry_after: int = 5
    ) -> None:
        self.redis = redis
        self.prefix = prefix + "session:"
        self.index_prefix = prefix + "sessions:"
        self.ttl_ms = int(idle_timeout_seconds * 1000)
        self.max_per_principal = max_per_principal
        self.retry_after = retry_after
        self._create = redis.register_script(_CREATE)
        self._touch = redis.register_script(_TOUCH)

    async def create(self, record: SessionRecord, now_ms: int) -> CapReached | None:
        fields = [
            "principal",
            record.principal,
            "version",
            record.protocol_version,
            "client",
            json.dumps(record.client_params),
        ]
        async with answering(FEATURE, self.retry_after):
            open_count = await self._create(
                keys=[self.prefix + record.id, self.index_prefix + record.principal],
                args=[now_ms, self.ttl_ms, self.max_per_principal, record.id, *fields],
            )
        return None if int(open_count) < 0 else CapReached(int(open_count), self.max_per_principal)

    async def touch(self, session_id: str, now_ms: int) -> SessionRecord | None:
        """The record, its idle expiry pushed out; None when unknown or expired."""
        async with answering(FEATURE, self.retry_after):
            flat = await self._touch(
                keys=[self.prefix + session_id], args=[now_ms, self.ttl_ms, self.index_prefix, session_id]
            )
        if not flat:
            return None
        data = {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}
        stream = data.get("stream")
        return SessionRecord(
            session_id, data["principal"], data["version"], json.loads(data["client"]), int(stream) if stream else None
        )

    async def set_stream(self, session_id: str, replica: int) -> None:
        async with answering(FEATURE, self.retry_after):
            await self.redis.hset(self.prefix + session_id, "stream", str(replica))

    async def delete(self, record: SessionRecord) -> None:
        async with answering(FEATURE, self.retry_after), self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.prefix + record.id)
            pipe.zrem(self.index_prefix + record.principal, record.id)
            await pipe.execute()
