"""The `core` pack: health, echo and time. On by default; needs no service."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from mcpcloud.packs import PackContext

name = "core"
description = "Server health, echo and current time."

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


class Settings(BaseModel):
    model_config = {"extra": "forbid"}


class PackHealth(BaseModel):
    ready: bool
    detail: str


class HealthReport(BaseModel):
    status: str = Field(description="`ok` when every enabled pack is ready, `degraded` otherwise.")
    version: str
    uptime_seconds: float
    packs: dict[str, PackHealth]


class TimeReport(BaseModel):
    timezone: str
    iso: str = Field(description="Current time in ISO 8601 with the zone's UTC offset.")
    utc_offset: str
    unix: float


def register(ctx: PackContext) -> None:
    health = ctx.health

    @ctx.tool(title="Health check", annotations=READ_ONLY)
    async def health_check() -> HealthReport:
        """Report server status, version, uptime and the readiness of every enabled pack."""
        report = await health.report()
        packs = {n: PackHealth(ready=r.ready, detail=r.detail) for n, r in report.checks.items()}
        return HealthReport(
            status="ok" if report.ready else "degraded",
            version=health.version,
            uptime_seconds=round(health.uptime_seconds, 3),
            packs=packs,
        )

    # async on purpose: the SDK runs a sync tool in a worker thread, a hop that costs more than echo.
    @ctx.tool(title="Echo", annotations=READ_ONLY)
    async def echo(message: str) -> str:
        """Return the message unchanged (any Unicode text)."""
        return message

    @ctx.tool(title="Current time", annotations=READ_ONLY)
    async def get_time(timezone: str = "UTC") -> TimeReport:
        """Current time in an IANA time zone such as `Europe/Paris` or `America/New_York`."""
        zone = _zone(timezone)
        now = datetime.now(zone)
        offset = now.strftime("%z")
        return TimeReport(
            timezone=timezone,
            iso=now.isoformat(),
            utc_offset=f"{offset[:3]}:{offset[3:]}",
            unix=now.timestamp(),
        )


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        hint = _closest_zone(timezone)
        suggestion = f" Did you mean {hint!r}?" if hint else " Use an IANA name such as 'Europe/Paris'."
        raise ToolError(f"Unknown timezone {timezone!r}: not an IANA time zone name.{suggestion}") from None


def _closest_zone(timezone: str) -> str | None:
    wanted = timezone.strip().lower().replace(" ", "_")
    for zone in sorted(available_timezones()):
        if zone.lower() == wanted or zone.lower().endswith("/" + wanted):
            return zone
    return None
