"""Pages of the trail in any of its sort orders, by keyset, with a capped total.

The trail is append-only and grows without bound, so a page never costs more than its
rows: every sort is a column the indexes end in `seq` for — (tenant_id, <column>, seq) —
and the order is (<column>, seq), both ascending or both descending, so PostgreSQL and
SQLite walk one index and stop after a page. Pages follow each other by keyset: the
cursor is the `seq` of the last (or first) row shown, and the statement compares
(<column>, seq) with that row's values read in the same statement (never taken from the
URL). Never OFFSET, and never a COUNT over the whole chain: the total is counted up to
`TOTAL_CAP` inside the page's own statement.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from portal.audit.models import AuditEvent
from portal.extensions import db

PAGE_SIZE = 50
#: The viewer's total is counted up to this many events ("more than 10,000" beyond): a
#: count over a long chain must not cost more than the page itself.
TOTAL_CAP = 10_000
#: ?sort= key → the column (each has an index (tenant_id, column, seq), migrations
#: 0401, 0402 and 1301). "time" is the chain's order: seq is given as events are recorded.
SORTS: dict[str, Any] = {
    "time": AuditEvent.seq,
    "actor": AuditEvent.actor_name,
    "action": AuditEvent.action,
    "record_type": AuditEvent.entity_type,
}
DEFAULT_SORT = "time"


@dataclass
class Page:
    events: list[Any]  # rows with the columns of AuditEvent
    older: int | None  # pass as ?before= for the next page (below in the list's order)
    newer: int | None  # pass as ?after= for the previous page (above in the list's order)
    total: int = 0


def order_keys(sort: str) -> tuple[Any, ...]:
    """The columns a sort orders by: the chosen one, then seq (unknown keys: time)."""
    column = SORTS.get(sort, AuditEvent.seq)
    return (AuditEvent.seq,) if column is AuditEvent.seq else (column, AuditEvent.seq)


def order_by(sort: str, desc: bool) -> list[Any]:
    return [k.desc() if desc else k.asc() for k in order_keys(sort)]


def _beyond(chain: uuid.UUID, keys: tuple[Any, ...], seq: int, greater: bool) -> Any:
    """Rows whose (column, seq) is greater (or less) than those of event `seq`."""
    e = AuditEvent
    if len(keys) == 1:
        return e.seq > seq if greater else e.seq < seq
    cursor = aliased(AuditEvent)
    value = (
        sa.select(getattr(cursor, keys[0].key))
        .where(cursor.tenant_id == chain, cursor.seq == seq)
        .scalar_subquery()
    )
    left, right = sa.tuple_(*keys), sa.tuple_(value, sa.literal(seq, sa.BigInteger))
    return left > right if greater else left < right


def capped_total(base: sa.Select, cap: int | None = None) -> Any:
    """A scalar subquery: how many events the filter matches, at most `cap` + 1."""
    limit = (TOTAL_CAP if cap is None else cap) + 1
    capped = base.with_only_columns(AuditEvent.seq).order_by(None).limit(limit).subquery()
    return sa.select(sa.func.count()).select_from(capped).scalar_subquery()


@dataclass(frozen=True)
class Window:
    """Which page: the cursor (`before`: the rows below event N in the list's order,
    `after`: the rows above it), the page size and the sort."""

    before: int | None = None
    after: int | None = None
    size: int = PAGE_SIZE
    sort: str = DEFAULT_SORT
    desc: bool = True


def statement(base: sa.Select, chain: uuid.UUID, w: Window, total: bool = False) -> sa.Select:
    """The one statement of a page: size + 1 rows beyond the cursor (with `after`: above
    it, nearest first) in the chosen order, plus the capped total when asked for."""
    keys = order_keys(w.sort)
    # plain rows, not ORM objects: a page is only read (building 50 objects cost more
    # than running the statement); the exports read the trail the same way
    query = base.with_only_columns(*AuditEvent.__table__.c)
    if w.after is not None:
        query = query.where(_beyond(chain, keys, w.after, greater=w.desc))
    elif w.before is not None:
        query = query.where(_beyond(chain, keys, w.before, greater=not w.desc))
    query = query.order_by(*order_by(w.sort, w.desc != (w.after is not None)))
    query = query.limit(w.size + 1)
    if total:
        query = query.add_columns(capped_total(base).label("total"))
    return query


def page(base: sa.Select, chain: uuid.UUID, w: Window = Window(), total: bool = False) -> Page:
    """One page in the chosen order, the cursors of its neighbours and (with `total`)
    the capped count, which rides in the page's own statement."""
    keys = order_keys(w.sort)
    backwards = w.after is not None  # reading the rows above the cursor, nearest first
    result = db.session.execute(statement(base, chain, w, total)).all()
    rows = list(result)
    counted = int(result[0].total) if total and result else 0
    more = len(rows) > w.size
    rows = rows[: w.size]
    if backwards:
        rows.reverse()
    if not rows:
        return Page([], None, None, counted)
    first, last = rows[0].seq, rows[-1].seq
    if backwards:
        below = _exists(base.where(_beyond(chain, keys, last, greater=not w.desc)))
        return Page(rows, last if below else None, first if more else None, counted)
    above = None
    if w.before is not None and _exists(base.where(_beyond(chain, keys, first, greater=w.desc))):
        above = first
    return Page(rows, last if more else None, above, counted)


def _exists(query: sa.Select) -> bool:
    return db.session.execute(sa.select(query.limit(1).exists())).scalar() or False
