"""Short-lived, process-local answers to read-mostly questions asked on every page (the
menu's items and counts, a half-year's policy notice).

An answer is kept for `SECONDS` under its key; any commit that wrote something drops
every kept answer of this process, so what a user just did shows at once. A write
handled by another worker process shows within `SECONDS`. Keys must name everything
else the answer depends on (district, user, scope, language …; the database is added
here, since one process may serve several: tests, tools); answers must be plain values,
never ORM objects (they outlive the session).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.extensions import db

SECONDS = 10.0
_MAX = 20_000
_kept: dict[tuple[Any, ...], tuple[float, Any]] = {}


def forget() -> None:
    _kept.clear()


def remembered(key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
    """`compute()`, or what it answered for `key` less than SECONDS ago (None: not kept)."""
    key = (db.engine.url, *key)
    now = time.monotonic()
    kept = _kept.get(key)
    if kept is not None and now - kept[0] < SECONDS:
        return kept[1]
    value = compute()
    if value is not None:
        if len(_kept) >= _MAX:
            _kept.clear()
        _kept[key] = (now, value)
    return value


@sa.event.listens_for(Session, "after_flush")
def _note_write(session: Session, _flush_context: object) -> None:
    session.info["portal_wrote"] = True


@sa.event.listens_for(Session, "after_commit")
def _forget_after_write(session: Session) -> None:
    if session.info.pop("portal_wrote", False):
        forget()


@sa.event.listens_for(Session, "after_rollback")
def _no_write(session: Session) -> None:
    session.info.pop("portal_wrote", None)
