"""EXPLAIN ANALYZE of the audit viewer's page statement on a benchmark database (PostgreSQL).

    BENCH_DB_PREFIX=audit_ PYTHONPATH=$PWD .venv/bin/python bench/audit_explain.py --scale 300

Builds each statement with the viewer's own code (filter, sort, keyset cursor, capped
total) in the measured district (the middle one, like bench/run.py) and runs it as the
app role under row-level security; prints each plan's top lines and its execution time.
Every sort must be an index scan that stops after a page, never a sort of the chain.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = [
    ("newest first (default)", {}, False),
    ("oldest first", {"sort": "time"}, False),
    ("person A→Z", {"sort": "actor"}, False),
    ("person Z→A, second page", {"sort": "actor", "dir": "desc"}, True),
    ("action A→Z", {"sort": "action"}, False),
    ("record type Z→A", {"sort": "record_type", "dir": "desc"}, False),
    ("search 签报", {"q": "签报"}, False),
    ("search 签报, by person", {"q": "签报", "sort": "actor"}, False),
    ("person's display name", {"actor": "{officer}"}, False),
    ("search a longer word (trigram index?)", {"q": "经办人1"}, False),
    ("bench page: update + department", {"action": "update", "department": "{dept}"}, False),
    ("bench page, by person", {"action": "update", "department": "{dept}", "sort": "actor"}, False),
]


def main() -> None:
    import sqlalchemy as sa
    from flask import g

    from bench.run import BenchDB
    from portal import create_app, listing
    from portal.audit import paging, services
    from portal.audit.views import COLUMNS
    from portal.extensions import db
    from portal.tenancy import scope

    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=300)
    ap.add_argument(
        "--no-sort", action="store_true", help="SET enable_sort = off: the plan without a sort"
    )
    args = ap.parse_args()
    bdb = BenchDB("postgres", args.scale)
    app = create_app({"SQLALCHEMY_DATABASE_URI": bdb.app_url, "SECRET_KEY": "bench"})
    slug = f"scale-{(args.scale + 1) // 2:05d}"
    with sa.create_engine(bdb.owner_url).connect() as c:
        tid = c.exec_driver_sql("SELECT id FROM tenants WHERE slug = %(s)s", {"s": slug}).scalar()
        officer, dept = c.exec_driver_sql(
            "SELECT display_name, department_id FROM users WHERE tenant_id = %(t)s "
            "AND department_id IS NOT NULL ORDER BY username LIMIT 1",
            {"t": tid},
        ).one()
        events, all_events = c.exec_driver_sql(
            "SELECT count(*) FILTER (WHERE tenant_id = %(t)s), count(*) FROM audit_events",
            {"t": tid},
        ).one()
    print(f"{slug}: {events:,} events in its chain, {all_events:,} in the table\n")
    seen: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, many):  # type: ignore[no-untyped-def]
        if "FROM audit_events" in statement and not statement.startswith("SELECT EXISTS"):
            seen.append((statement, parameters))

    for name, raw, second_page in CASES:
        params = {k: v.format(officer=officer, dept=dept) for k, v in raw.items()}
        with (
            app.test_request_context("/", query_string=params),
            scope.tenant_scope(tid, read_only=True),
        ):
            g.tenant = None
            lst = listing.Listing.from_request("audit.events", COLUMNS)
            sort, desc = (lst.sort, lst.desc) if lst.sort else (paging.DEFAULT_SORT, True)
            base = services.filtered(tid, services.EventFilter.from_args(params))
            before = None
            if second_page:
                before = paging.page(base, tid, paging.Window(None, None, 50, sort, desc)).older
            window = paging.Window(before, None, 50, sort, desc)
            # the statement exactly as the app sends it (with the tenancy hook's criteria
            # in every subquery), captured and explained with its parameters
            seen.clear()

            sa.event.listen(db.engine, "before_cursor_execute", grab)
            try:
                paging.page(base, tid, window, total=True)
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", grab)
            if args.no_sort:
                db.session.execute(sa.text("SET LOCAL enable_sort = off"))
            statement, parameters = seen[-1]
            plan = db.session.connection().exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
            )
            plan = (row[0] for row in plan)
            lines = list(plan)
            print(f"## {name}  {params}")
            for line in lines[:40]:
                print("   ", line)
            print("    …", lines[-1], "\n")
            db.session.rollback()


if __name__ == "__main__":
    main()
