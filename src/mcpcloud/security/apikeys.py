"""API keys: `mcpk_<id>_<secret>`, stored as a SHA-256 hash of the secret plus metadata.

The secret is 256 random bits, so a fast hash is as safe as a slow one (nothing to brute
force) and keeps verification cheap. The id is not secret; it finds the record and names the
principal (`key:<id>`) in logs and policies. Hashes are compared in constant time, and an
unknown id is compared against a dummy hash so both failures cost the same.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from mcpcloud.security.keystore import KeyRecord, KeyStore
from mcpcloud.security.principal import Principal

KEY_PREFIX = "mcpk_"
_KEY = re.compile(r"^mcpk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_DURATION = re.compile(r"^(\d+)([smhdwy])$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
_DUMMY_HASH = hashlib.sha256(b"mcpcloud: no such key").hexdigest()


@dataclass(frozen=True)
class NewKey:
    key: str
    record: KeyRecord


def parse_duration(text: str) -> timedelta:
    """`90d`, `12h`, `30m`, `2w`, `1y`."""
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a duration like 90d, 12h, 30m, 2w or 1y")
    return timedelta(seconds=int(match.group(1)) * _DURATION_UNITS[match.group(2)])


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def mint(name: str, scopes: list[str], expires_in: timedelta | None, now: datetime | None = None) -> NewKey:
    now = now or datetime.now(UTC)
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    record = KeyRecord(
        id=key_id,
        name=name,
        scopes=tuple(scopes),
        hash=digest(secret),
        created_at=now.isoformat(timespec="seconds"),
        expires_at=(now + expires_in).isoformat(timespec="seconds") if expires_in else None,
    )
    return NewKey(key=f"{KEY_PREFIX}{key_id}_{secret}", record=record)


def revoked(record: KeyRecord, now: datetime | None = None) -> KeyRecord:
    return replace(record, revoked_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"))


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(KEY_PREFIX)


class InvalidKey(Exception):
    """The presented key is not usable; the message is safe to show to the caller."""


class ApiKeyVerifier:
    def __init__(self, store: KeyStore) -> None:
        self.store = store

    async def verify(self, presented: str) -> Principal:
        match = _KEY.match(presented)
        if match is None:
            raise InvalidKey("malformed API key (expected mcpk_<12 hex id>_<43 character secret>)")
        key_id, secret = match.groups()
        record = await self.store.get(key_id)
        expected = record.hash if record is not None else _DUMMY_HASH
        if not hmac.compare_digest(digest(secret), expected) or record is None:
            raise InvalidKey("invalid API key")
        if record.revoked_at is not None:
            raise InvalidKey(f"API key {key_id} was revoked")
        if record.expired(datetime.now(UTC)):
            raise InvalidKey(f"API key {key_id} expired at {record.expires_at}")
        return Principal(
            id=f"key:{record.id}",
            kind="api_key",
            scopes=frozenset(record.scopes),
            subject=f"key:{record.id}",
            client_id=f"key:{record.id}",
            name=record.name,
            aliases=(f"key-name:{record.name}",),
        )
