"""The floor (bench/floor.py) as a WSGI app, for the load test's side-by-side run:

    BENCH_FLOOR_DB=bench_2800 gunicorn -c deploy/gunicorn.conf.py bench.floor_wsgi:app

Lists the rows of the middle district (the one bench/run.py measures) with no sign-in,
scoping, RLS or audit: what this machine serves when the portal's own work is taken away.
"""

from __future__ import annotations

import os

import sqlalchemy as sa

from bench.floor import floor_app
from bench.run import PG_ADMIN, context

_db = os.environ.get("BENCH_FLOOR_DB", "bench_2800")
_scale = int(os.environ.get("BENCH_TENANTS", "2800"))
_owner_url = sa.engine.make_url(PG_ADMIN).set(database=_db).render_as_string(hide_password=False)


def _context() -> dict:
    from portal import create_app

    portal = create_app({"SQLALCHEMY_DATABASE_URI": _owner_url, "SECRET_KEY": "floor"})
    return context(portal, _scale)


app = floor_app(_owner_url, _context())
