"""Today and now: one definition, pinned for tests and demos, shown in the district's zone.

Times are stored in UTC. People see them in their district's zone (Asia/Shanghai unless
the tenant says otherwise) through `local()` and the `datetime`/`localtime` filters.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_ZONE = "Asia/Shanghai"


def today() -> dt.date:
    """Today's date in the default zone; `TODAY` (config) or `PORTAL_TODAY` pins it."""
    value: Any = current_app.config.get("TODAY") if has_app_context() else None
    value = value or os.environ.get("PORTAL_TODAY")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if value:
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            pass
    return dt.datetime.now(ZoneInfo(DEFAULT_ZONE)).date()


def now() -> dt.datetime:
    """The current instant, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


def zone(tenant: Any = None) -> ZoneInfo:
    name = getattr(tenant, "timezone", None) or DEFAULT_ZONE
    try:
        return ZoneInfo(name)
    except Exception:  # noqa: BLE001 - an unknown zone name falls back to the default
        return ZoneInfo(DEFAULT_ZONE)


def local(value: dt.datetime | None, tenant: Any = None) -> dt.datetime | None:
    """A stored instant in the district's zone (naive values are UTC, as stored)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(zone(tenant))
