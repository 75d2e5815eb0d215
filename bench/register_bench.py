"""The register's pages at scale, against the bare Flask-Admin floor, and with
encryption on and off (bench/README.md, numbers in docs/performance.md).

    PYTHONPATH=$PWD .venv/bin/python -m bench.register_bench --db bench_register_300

Needs a database seeded by `bench.seed_scale` then `bench.seed_register`. Measures, in
one process with the Flask test client (no network), requests interleaved page / floor /
page … so a burst of load from elsewhere on the machine hits both alike:

* the town officer's household list (`<slug>-town1`, their town) and the lead's register
  list (the whole district), page 1 and a deep page, against a bare Flask-Admin
  `ModelView` of the same rows (bench/floor.py);
* encryption on vs off: the lead's list and a household page with its members (the page
  that decrypts: masked ID and phone of each member), alternating blocks with
  `pii.Encrypted.process_result_value` as usual and replaced by a pass-through (off:
  the same rows and bytes read, no AES-GCM decryption — measurement only, the app has no
  switch).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]


def _urls(db_name: str) -> tuple[str, str]:
    from bench.run import APP_ROLE, PG_ADMIN

    base = sa.engine.make_url(PG_ADMIN)
    owner = base.set(database=db_name).render_as_string(hide_password=False)
    app = base.set(database=db_name, username=APP_ROLE, password=None).render_as_string(
        hide_password=False
    )
    return owner, app


def context(owner_url: str, slug: str | None) -> dict:
    engine = sa.create_engine(owner_url)
    with engine.connect() as c:
        if slug is None:  # the district with the most persons (the seeded worst case)
            slug = c.execute(
                sa.text(
                    "SELECT t.slug FROM tenants t JOIN users u ON u.tenant_id = t.id "
                    "WHERE u.role = 'town_officer' AND t.slug LIKE 'scale-%' ORDER BY t.slug LIMIT 1"
                )
            ).scalar_one()
        tenant_id = c.execute(
            sa.text("SELECT id FROM tenants WHERE slug = :s"), {"s": slug}
        ).scalar_one()
        town_id = c.execute(
            sa.text(
                "SELECT ot.town_id FROM register_officer_towns ot JOIN users u ON u.id = ot.user_id "
                "WHERE u.username = :u"
            ),
            {"u": f"{slug}-town1"},
        ).scalar_one()
        counts = {
            "districts_with_register": c.execute(
                sa.text("SELECT count(DISTINCT tenant_id) FROM areas")
            ).scalar_one(),
            "households": c.execute(sa.text("SELECT count(*) FROM households")).scalar_one(),
            "persons": c.execute(sa.text("SELECT count(*) FROM persons")).scalar_one(),
            "district_households": c.execute(
                sa.text("SELECT count(*) FROM households WHERE tenant_id = :t"), {"t": tenant_id}
            ).scalar_one(),
            "district_persons": c.execute(
                sa.text("SELECT count(*) FROM persons WHERE tenant_id = :t"), {"t": tenant_id}
            ).scalar_one(),
            "town_households": c.execute(
                sa.text("SELECT count(*) FROM households WHERE tenant_id = :t AND town_id = :w"),
                {"t": tenant_id, "w": town_id},
            ).scalar_one(),
            "largest_district_persons": c.execute(
                sa.text("SELECT max(n) FROM (SELECT count(*) n FROM persons GROUP BY tenant_id) x")
            ).scalar_one(),
        }
        household = c.execute(
            sa.text(
                "SELECT h.id FROM households h WHERE h.tenant_id = :t AND h.category = 'disabled_child' "
                "ORDER BY h.number LIMIT 1"
            ),
            {"t": tenant_id},
        ).scalar_one()
    engine.dispose()
    return {
        "slug": slug,
        "tenant_id": tenant_id,
        "register_town_id": town_id,
        "household_id": household,
        "lead": f"{slug}-lead",
        "town": f"{slug}-town1",
        "counts": counts,
    }


def bench_app(db_name: str, slug: str | None) -> tuple[str, dict, Any]:
    """The owner URL, the measured district's context and the portal app on `db_name`
    (shared by this module and bench/register_import.py)."""
    from bench.run import BENCH_PII_KEY

    os.environ.setdefault("PORTAL_PII_KEY", BENCH_PII_KEY)
    os.environ.setdefault("PORTAL_SECRET_KEY", "bench")
    from portal import create_app

    owner_url, app_url = _urls(db_name)
    ctx = context(owner_url, slug)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": app_url,
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "AUDIT_KEY": "bench",
        }
    )
    return owner_url, ctx, app


@contextlib.contextmanager
def encryption_off() -> Iterator[None]:
    """Measurement only: the column type hands the stored text through undecrypted."""
    from portal.register import pii

    original = pii.Encrypted.process_result_value
    pii.Encrypted.process_result_value = lambda self, value, dialect: value  # type: ignore[method-assign]
    try:
        yield
    finally:
        pii.Encrypted.process_result_value = original  # type: ignore[method-assign]


def _get(client: Any, path: str) -> float:
    t0 = time.perf_counter()
    r = client.get(path)
    elapsed = time.perf_counter() - t0
    if r.status_code != 200:
        raise RuntimeError(f"{path} answered {r.status_code}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="bench_register_300")
    ap.add_argument("--slug", default=None)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "register.json"))
    args = ap.parse_args()

    from bench.floor import floor_app
    from bench.run import QueryCounter, sign_in, summarize
    from portal.extensions import db

    owner_url, ctx, app = bench_app(args.db, args.slug)
    print(f"{args.db}: {ctx['slug']} {json.dumps(ctx['counts'])}", flush=True)
    clients = {"lead": sign_in(app, ctx["lead"]), "town": sign_in(app, ctx["town"])}
    with app.app_context():
        counter = QueryCounter(db.engine)
    floor = floor_app(owner_url, ctx).test_client()
    slug = ctx["slug"]
    deep = max(1, ctx["counts"]["town_households"] // 25 // 2)
    pages = [
        ("town officer household list", "town", f"/t/{slug}/register/", "/floor/town_households/"),
        (
            f"town officer household list, page {deep}",
            "town",
            f"/t/{slug}/register/?page={deep}",
            f"/floor/town_households/?page={deep - 1}",
        ),
        ("lead register list", "lead", f"/t/{slug}/register/", "/floor/district_households/"),
        (
            "lead register list, 失独 in register",
            "lead",
            f"/t/{slug}/register/?category=bereaved&status=registered",
            "/floor/district_households/",
        ),
    ]
    gc.collect()
    gc.freeze()
    out: dict[str, Any] = {
        "db": args.db,
        "context": {k: str(v) for k, v in ctx.items() if k != "counts"},
        "counts": ctx["counts"],
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average_start": os.getloadavg(),
        "pages": {},
    }
    for name, role, path, floor_path in pages:
        client = clients[role]
        before = counter.n
        client.get(path)
        queries = counter.n - before
        for _ in range(args.warmup):
            _get(client, path)
            _get(floor, floor_path)
        mine, base = [], []
        for _ in range(args.requests):
            mine.append(_get(client, path))
            base.append(_get(floor, floor_path))
        res = {
            "path": path,
            "queries": queries,
            "latency": summarize(mine),
            "floor": summarize(base),
        }
        res["ratio_p95_vs_floor"] = round(res["latency"]["p95"] / res["floor"]["p95"], 2)
        out["pages"][name] = res
        print(
            f"{name}: p50 {res['latency']['p50']} p95 {res['latency']['p95']} ms, {queries} queries; "
            f"floor p95 {res['floor']['p95']} ms; ratio {res['ratio_p95_vs_floor']}",
            flush=True,
        )
    # encryption on vs off, alternating blocks of 10
    for name, role, path in (
        ("lead register list", "lead", f"/t/{slug}/register/"),
        (
            "household page with members",
            "lead",
            f"/t/{slug}/register/households/{ctx['household_id']}",
        ),
    ):
        client = clients[role]
        for _ in range(args.warmup):
            _get(client, path)
        on, off = [], []
        for _ in range(max(1, args.requests // 10)):
            on += [_get(client, path) for _ in range(10)]
            with encryption_off():
                off += [_get(client, path) for _ in range(10)]
        res = {"path": path, "on": summarize(on), "off": summarize(off)}
        res["ratio_p95_on_vs_off"] = round(res["on"]["p95"] / res["off"]["p95"], 2)
        res["ratio_p50_on_vs_off"] = round(res["on"]["p50"] / res["off"]["p50"], 2)
        out["pages"][f"encryption: {name}"] = res
        print(
            f"encryption {name}: on p50/p95 {res['on']['p50']}/{res['on']['p95']} ms, off "
            f"{res['off']['p50']}/{res['off']['p95']} ms; ratio p95 {res['ratio_p95_on_vs_off']}",
            flush=True,
        )
    out["load_average_end"] = os.getloadavg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    with app.app_context():
        db.engine.dispose()
    sys.exit(0)


if __name__ == "__main__":
    main()
