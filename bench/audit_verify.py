"""Audit verify throughput: fill one synthetic chain, time `verify_chains`.

    PYTHONPATH=$PWD .venv/bin/python bench/audit_verify.py [EVENTS] [DATABASE_URL]

Without a URL it makes a throwaway SQLite database (or, with PORTAL_TEST_BACKEND=postgres,
a throwaway PostgreSQL one) by the migrations, exactly as the tests do.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
import uuid

import sqlalchemy as sa


def fill_chain(owner_url: str, events: int, tenant_id: uuid.UUID | None = None) -> uuid.UUID:
    """Append `events` realistic events to a new chain (as the owner; inserts only)."""
    from portal.audit import trail
    from portal.audit.models import AuditChainHead, AuditEvent

    tid = tenant_id or uuid.uuid4()
    engine = sa.create_engine(owner_url)
    actor = trail.Actor(
        id=uuid.uuid4(),
        name="kaifeng-civil-affairs",
        role="dept_officer",
        ip="10.1.2.3",
        user_agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/120",
        request_id=uuid.uuid4().hex,
    )
    dept = uuid.uuid4()
    start = dt.datetime(2026, 1, 1)
    prev, batch = trail.GENESIS, []
    with engine.begin() as conn:
        for seq in range(1, events + 1):
            ev = {
                "tenant_id": tid,
                "action": "update",
                "entity_type": "ProgressEntry",
                "entity_id": str(uuid.UUID(int=seq)),
                "department_id": dept,
                "summary": f"2026H1 第{seq % 40}项 特别扶助金发放进度",
                "changes": {
                    "status": {"before": "draft", "after": "submitted"},
                    "note": {"before": "", "after": "已按季度发放，共计 1,234 户"},
                },
                "actor": actor,
                "occurred_at": start + dt.timedelta(seconds=seq, microseconds=seq % 7),
            }
            row = trail.event_row(ev, seq, prev)
            prev = row["hash"]
            batch.append(row)
            if len(batch) == 5000:
                conn.execute(sa.insert(AuditEvent.__table__), batch)
                batch = []
        if batch:
            conn.execute(sa.insert(AuditEvent.__table__), batch)
        conn.execute(
            sa.insert(AuditChainHead.__table__).values(tenant_id=tid, seq=events, hash=prev)
        )
    engine.dispose()
    return tid


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    sys.path.insert(0, ".")
    from tests.conftest import Databases, make_app

    dbs = None
    if len(sys.argv) > 2:
        app_url = owner_url = sys.argv[2]
    else:
        import tempfile
        from pathlib import Path

        dbs = Databases(Path(tempfile.mkdtemp()))
        app_url = dbs.new(demo=False)
        owner_url = dbs.owner_url(app_url)
    try:
        t0 = time.perf_counter()
        tid = fill_chain(owner_url, events)
        print(f"filled {events} events in {time.perf_counter() - t0:.1f} s")
        app = make_app(app_url)
        from portal.audit.verify import verify_chains
        from portal.extensions import db

        with app.app_context():
            for _ in range(3):
                started = time.perf_counter()
                results = verify_chains(db.engine)
                elapsed = time.perf_counter() - started
                total = sum(r.events for r in results)
                ok = all(r.ok for r in results) and any(r.tenant_id == tid for r in results)
                print(
                    json.dumps(
                        {
                            "backend": db.engine.dialect.name,
                            "events": total,
                            "seconds": round(elapsed, 3),
                            "events_per_s": round(total / elapsed),
                            "ok": ok,
                        }
                    )
                )
            db.engine.dispose()
    finally:
        if dbs is not None:
            dbs.drop_all()


if __name__ == "__main__":
    main()
