"""Profile one benchmark page in-process: where does a request's time go?

    PYTHONPATH=$PWD .venv/bin/python bench/profile_page.py "officer duty list" \
        --backend postgres --scale 2800 --requests 50

Prints a pyinstrument call tree of N requests (after a warm-up) and the SQL statements
one request runs. Uses the databases `bench/run.py` created (no seeding here).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    import sqlalchemy as sa
    from pyinstrument import Profiler

    from bench.pages import PAGES
    from bench.run import BenchDB, Setup
    from portal.extensions import db

    ap = argparse.ArgumentParser()
    ap.add_argument("page", help="a page name from bench/pages.py")
    ap.add_argument("--backend", default="postgres")
    ap.add_argument("--scale", type=int, default=2800)
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--sql", action="store_true", help="print the statements of one request")
    ap.add_argument("--all", action="store_true", help="show library frames too")
    args = ap.parse_args()
    page = next(p for p in PAGES if p.name.startswith(args.page))
    st = Setup(BenchDB(args.backend, args.scale), print)
    client = st.clients[page.role]
    path = page.path.format(**st.ctx)
    for _ in range(5):
        assert client.get(path).status_code == 200, path
    if args.sql:
        statements: list[str] = []
        with st.app.app_context():
            engine = db.engine

        def log(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
            statements.append(statement)

        sa.event.listen(engine, "before_cursor_execute", log)
        client.get(path)
        sa.event.remove(engine, "before_cursor_execute", log)
        for s in statements:
            print("---", s[:2000])
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(args.requests):
        client.get(path)
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=args.all))
    st.close()


if __name__ == "__main__":
    main()
