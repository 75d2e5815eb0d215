"""Short-lived, process-local answers to read-mostly questions asked on every page (the
menu's items and counts, a half-year's policy notice).

An answer is kept for `SECONDS` under its key, in the bucket of the district it
describes. A commit that wrote something drops the buckets of the districts it wrote
to, so what a user just did shows at once; a write to one district leaves the others'
answers in place (under load, with every user's heartbeat a write, dropping all of
them on every commit kept almost nothing). A write whose district is unknown — a row
without a district, a bulk statement — drops every bucket, and platform-wide answers
(bucket None) go with any write. A write handled by another worker process shows within
`SECONDS`. Keys must name everything else the answer depends on (user, scope, language
…; the database is added here, since one process may serve several: tests, tools);
answers must be plain values, never ORM objects (they outlive the session).

A commit whose only write in a district was its audit trail (an export, a download, a
personal-information reveal: a read that is recorded) drops only the answers that read
the trail (`reads_trail`, the default: the recent-activity panels); the others stay.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import ORMExecuteState, Session

from portal.extensions import db

SECONDS = 10.0
_MAX = 20_000
_EVERY = "every district"  # a write whose district is not known
_kept: dict[Any, dict[tuple[Any, ...], tuple[float, Any]]] = {}
# answers that do not read the audit trail, per district (`reads_trail=False`)
_kept_data: dict[Any, dict[tuple[Any, ...], tuple[float, Any]]] = {}
_size = 0
# Forgets so far, per bucket and in all: an answer computed while its bucket was
# forgotten (a write committed by another thread meanwhile) may predate that write, so
# it is returned but not kept.
_forgotten: dict[Any, int] = {}
_forgotten_trail: dict[Any, int] = {}  # forgets of the trail-reading answers only
_forgot_all = 0


def _generation(tenant_id: Any, reads_trail: bool) -> tuple[int, int, int]:
    trail = _forgotten_trail.get(tenant_id, 0) if reads_trail else 0
    return _forgot_all, _forgotten.get(tenant_id, 0), trail


def forget(tenant_ids: Any = None, trail_only: bool = False) -> None:
    """Drop the answers of these districts and the platform-wide ones (None: all);
    `trail_only`: only those that read the audit trail."""
    global _size, _forgot_all
    if tenant_ids is None:
        _forgot_all += 1
        _kept.clear()
        _kept_data.clear()
        _size = 0
        return
    counters, stores = (
        (_forgotten_trail, (_kept,)) if trail_only else (_forgotten, (_kept, _kept_data))
    )
    for tenant_id in (*tenant_ids, None):
        counters[tenant_id] = counters.get(tenant_id, 0) + 1
        for store in stores:
            bucket = store.pop(tenant_id, None)
            if bucket:
                _size -= len(bucket)


def remembered(
    key: tuple[Any, ...],
    compute: Callable[[], Any],
    tenant_id: Any = None,
    reads_trail: bool = True,
) -> Any:
    """`compute()`, or what it answered for `key` less than SECONDS ago (None: not kept).

    `tenant_id` is the district the answer describes (None: platform-wide, or more than
    one district). `reads_trail=False`: the answer reads nothing of the audit trail, so a
    commit that wrote only the trail (a recorded read) leaves it in place."""
    global _size
    key = (db.engine.url, *key)
    now = time.monotonic()
    store = _kept if reads_trail else _kept_data
    bucket = store.get(tenant_id)
    kept = bucket.get(key) if bucket is not None else None
    if kept is not None and now - kept[0] < SECONDS:
        return kept[1]
    generation = _generation(tenant_id, reads_trail)
    value = compute()
    if value is not None and _generation(tenant_id, reads_trail) == generation:
        if _size >= _MAX:
            forget()
        bucket = store.setdefault(tenant_id, {})
        _size += key not in bucket
        bucket[key] = (now, value)
    return value


def note_write(session: Session, tenant_id: Any, trail: bool = False) -> None:
    """A write the ORM events do not see (a Core insert, e.g. the audit trail's, `trail`):
    the district's answers are dropped when the session commits."""
    wrote = session.info.setdefault("portal_wrote_trail" if trail else "portal_wrote", set())
    wrote.add(tenant_id if tenant_id is not None else _EVERY)


@sa.event.listens_for(Session, "after_flush")
def _note_write(session: Session, _flush_context: object) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        note_write(session, getattr(obj, "tenant_id", None))


@sa.event.listens_for(Session, "do_orm_execute")
def _note_bulk_write(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        note_write(state.session, None)


@sa.event.listens_for(Session, "after_commit")
def _forget_after_write(session: Session) -> None:
    wrote = session.info.pop("portal_wrote", None) or set()
    trail = session.info.pop("portal_wrote_trail", None) or set()
    if wrote:
        forget(None if _EVERY in wrote else wrote)
    trail -= wrote
    if trail and _EVERY not in wrote:  # (a trail write of an unknown district: all go)
        forget(None if _EVERY in trail else trail, trail_only=True)


@sa.event.listens_for(Session, "after_rollback")
def _no_write(session: Session) -> None:
    session.info.pop("portal_wrote", None)
    session.info.pop("portal_wrote_trail", None)
