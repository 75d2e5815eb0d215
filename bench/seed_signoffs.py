"""Sign-off events in the bench districts' audit trails, added without re-seeding.

    PORTAL_DATABASE_URL=… PORTAL_MIGRATE_DATABASE_URL=… python -m bench.seed_signoffs

The bench seed signs duties off and reviews them through the ORM (the status change and
the duty's history row, `duty_review_records`), but before this it wrote none of the
explicit events the app's operations record beside them (`duty.sign_off`,
`duty.accepted`, …: `portal/duties/operations.py`). A real district's trail holds one per
sign-off and one per review; the bench trails held none, so the audit viewer's search
签报 — whose point is finding sign-offs — was measured on an empty result.

For every scale district whose chain has no `duty.sign_off` event yet, this appends one
event per row of its duties' history, in the order they happened (submitted →
`duty.sign_off` with the assessment and statement, accepted / returned →
`duty.accepted` / `duty.returned` with the note, invalidated → `duty.invalidated`), each
made by `trail.event_row` (the app's own code: fields, canonical JSON, hash), chained
after the chain's head under the head's row lock, and the head moved, so
`portal audit verify` still passes. Idempotent: a district that has them is skipped.
`bench.seed.seed_scale` runs it at the end, so a fresh seed has them too.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from bench.seed import PREFIX, Writer, _bulk_engine, _cross_tenant, move_heads
from portal.audit import trail
from portal.audit.models import AuditChainHead, AuditEvent
from portal.db import Base, utcnow

#: The duty history's action → the audit action the app records with it
#: (portal/duties/operations.py: sign_off, review, _touch_for_edit).
ACTIONS = {
    "submitted": "duty.sign_off",
    "accepted": "duty.accepted",
    "returned": "duty.returned",
    "invalidated": "duty.invalidated",
}
#: Same-instant history rows in the order the app writes them (a sign-off before its review).
_ORDER = {"invalidated": 0, "submitted": 1, "accepted": 2, "returned": 2}


def _data(action: str, row: Any) -> dict[str, Any]:
    """The event's data as the operation records it."""
    if action == "submitted":
        return {
            "assessment": row.assessment,
            "statement": (row.note or row.sign_off_statement or "")[:400],
            "reason": (row.assessment_reason or "")[:400],
        }
    if action == "invalidated":
        return {"status": {"before": "accepted", "after": "in_progress"}}
    return {"reason": (row.note or "")[:400]}


def events_for(rows: list[Any], tenant_id: uuid.UUID, now: Any) -> list[dict]:
    """Unchained events (the shape `trail.record` queues) for one district's history rows."""
    out = []
    for row in sorted(rows, key=lambda r: (r.at, _ORDER.get(r.action, 3), str(r.id))):
        action = ACTIONS.get(row.action)
        if action is None:
            continue
        actor = trail.Actor(
            id=row.actor_id,
            name=row.username or "system",
            role=str(row.role) if row.role is not None else "system",
            request_id="seed-scale",
        )
        out.append(
            {
                "tenant_id": tenant_id,
                "action": action,
                "entity_type": "Duty",
                "entity_id": str(row.duty_id),
                "department_id": row.department_id,
                "summary": row.measure_number or "",
                "changes": {k: trail._plain(v) for k, v in _data(row.action, row).items()},
                "actor": actor,
                "occurred_at": now,
            }
        )
    return out


def _signed_off(conn: sa.Connection, districts: list[uuid.UUID]) -> set[uuid.UUID]:
    """The districts whose chain already holds sign-off events."""
    ev = AuditEvent.__table__
    return set(
        conn.execute(
            sa.select(ev.c.tenant_id)
            .where(ev.c.tenant_id.in_(districts), ev.c.action == "duty.sign_off")
            .distinct()
        ).scalars()
    )


def add_sign_offs(
    engine: sa.Engine,
    use_copy: bool,
    batch: int = 50,
    say: Callable[[str], None] = print,
    analyze: bool = True,
) -> int:
    """Append the sign-off and review events to every scale district lacking them; returns
    the number of events written."""
    md = Base.metadata
    tenants, duties, history, users = (
        md.tables[t] for t in ("tenants", "duties", "duty_review_records", "users")
    )
    head = AuditChainHead.__table__
    ev = AuditEvent.__table__
    ev_cols = [c.name for c in ev.columns]
    with engine.connect() as conn:
        with conn.begin():
            _cross_tenant(conn)
            districts = list(
                conn.execute(
                    sa.select(tenants.c.id)
                    .where(tenants.c.slug.like(f"{PREFIX}-%"))
                    .order_by(tenants.c.slug)
                ).scalars()
            )
            done = _signed_off(conn, districts)
        todo = [t for t in districts if t not in done]
        if not todo:
            return 0
        say(f"adding sign-off events to {len(todo)} districts")
        written = 0
        started = time.perf_counter()
        for start in range(0, len(todo), batch):
            ids = todo[start : start + batch]
            with conn.begin():
                _cross_tenant(conn)
                heads = {
                    r.tenant_id: (r.seq, r.hash)
                    for r in conn.execute(
                        sa.select(head).where(head.c.tenant_id.in_(ids)).with_for_update()
                    )
                }
                # Checked again under the heads' locks: a concurrent run added nothing twice.
                again = _signed_off(conn, ids)
                rows: dict[uuid.UUID, list[Any]] = {}
                for r in conn.execute(
                    sa.select(
                        history.c.tenant_id,
                        history.c.id,
                        history.c.duty_id,
                        history.c.department_id,
                        history.c.action,
                        history.c.actor_id,
                        history.c.note,
                        history.c.at,
                        duties.c.measure_number,
                        duties.c.assessment,
                        duties.c.assessment_reason,
                        duties.c.sign_off_statement,
                        users.c.username,
                        users.c.role,
                    )
                    .join(
                        duties,
                        sa.and_(
                            duties.c.tenant_id == history.c.tenant_id,
                            duties.c.id == history.c.duty_id,
                        ),
                    )
                    .outerjoin(users, users.c.id == history.c.actor_id)
                    .where(history.c.tenant_id.in_(ids))
                ):
                    rows.setdefault(r.tenant_id, []).append(r)
                writer = Writer(conn, use_copy)
                moved = []
                now = utcnow()
                for tid in ids:
                    if tid in again or tid not in heads or not rows.get(tid):
                        continue
                    seq, prev = heads[tid]
                    for e in events_for(rows[tid], tid, now):
                        seq += 1
                        row = trail.event_row(e, seq, prev)
                        prev = row["hash"]
                        writer.add(ev, ev_cols, [row[c] for c in ev_cols])
                    moved.append({"t": tid, "s": seq, "h": prev})
                writer.flush(["audit_events"])
                move_heads(conn, moved)
                written += writer.written
            say(
                f"{start + len(ids)}/{len(todo)} districts, {written} sign-off events, "
                f"{time.perf_counter() - started:.0f}s"
            )
    if analyze:  # fresh statistics for the planner, as after the seed
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE audit_events")
    return written


def main() -> None:
    from portal import create_app
    from portal.extensions import db

    app = create_app()
    with app.app_context():
        engine, use_copy = _bulk_engine(db.engine)
        n = add_sign_offs(engine, use_copy)
    print(f"{n} sign-off events appended")


if __name__ == "__main__":
    main()
