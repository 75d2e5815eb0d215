"""Denials (403/404 of a signed-in user, probes of another district) counted per window.

Every refusal used to add its own chained audit event, so one user crawling ids could
grow a district's chain without bound (39,000 events in one red-team pass). Now the
first refusal of a user on a route within a window is recorded, and then only the 10th,
100th, 1000th … with its count: a probe stays visible, its size is known, and the chain
grows by O(log n) per user, route and window.

The counters live in the same storage as the sign-in limiter (`RATELIMIT_STORAGE_URI`),
so all workers share them when that storage is shared (Redis); in memory otherwise,
which only makes the aggregation per worker, never unbounded.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from flask import current_app, request

WINDOW_SECONDS = 600
_EXTENSION = "portal_denials"

log = logging.getLogger(__name__)


def _storage() -> Any:
    storage = current_app.extensions.get(_EXTENSION)
    if storage is None:
        from limits.storage import MemoryStorage, storage_from_string

        uri = current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
        try:
            storage = storage_from_string(uri)
        except Exception:  # noqa: BLE001 - an unknown scheme: count per worker instead
            log.warning("denial counters: storage %s not usable, counting in memory", uri)
            storage = MemoryStorage()
        current_app.extensions[_EXTENSION] = storage
    return storage


def _is_reported(count: int) -> bool:
    """1, 10, 100, 1000 …: the first refusal and each further order of magnitude."""
    while count >= 10 and count % 10 == 0:
        count //= 10
    return count == 1


def repeats(user_id: Any, status: int) -> int | None:
    """Count this refusal; the count when it should be recorded now, else None.

    The key is the user and the route's rule (`/t/<slug>/duties/<uuid:duty_id>`), not the
    concrete path: crawling a thousand ids is one route, seen as one growing count."""
    rule = request.url_rule.rule if request.url_rule is not None else request.path[:80]
    digest = hashlib.sha256(f"{user_id}|{rule}|{status}".encode()).hexdigest()[:32]
    try:
        count = int(_storage().incr(f"portal-denial/{digest}", WINDOW_SECONDS))
    except Exception:  # noqa: BLE001 - a counter outage must not hide the refusal
        log.exception("denial counter unavailable")
        return 1
    return count if _is_reported(count) else None
