"""The national monthly run of the benefits engine (issue 18): one payment cycle for every
district of a seeded benchmark database, on PostgreSQL.

    PYTHONPATH=$PWD .venv/bin/python -m bench.benefits_national --db bench_2800 \
        [--month 2026-11] [--workers 1] [--sample 20] [--fresh]

On a database `bench.seed_scale` and `bench.seed_register` filled (`scale-NNNNN` districts
with their registers; bench/README.md):

1. **Standards (a benchmark stand-in).** The scale districts carry the 姜堰 draft, which
   states no amounts, so they have no standard to compute. Every scale district without it
   gets a stand-in policy version holding 开封's (tenants/kaifeng.yaml, 汴政办〔2023〕24号)
   measures whose standards are computed from the register — 特别扶助金 1180 → 1430
   元/人/月 and the yearly 住院护理补贴保险 — as written by the policy loader (same
   columns, same values), but as a **set-based copy**: one multi-row INSERT per table as
   the database owner (bypasses RLS, like seed_register's COPY), not `load_policy` per
   district. The version says what it is in its title and source; its measures create no
   duties. Timed apart from the run. Idempotent.
2. **The run.** For every district, what the 卫健 officer's "compute" does, as the CLI
   would do it: inside the district's scope, `operations.create_cycle` then
   `operations.compute_cycle` (register facts read, standards, engine, settlement, one
   set-based INSERT of the lines, the audited event) under `kernel.uow.cli_transaction`
   (one commit per district). `--workers 1`: one process, districts in turn; `--workers
   N`: N processes (a spawn pool, each its own app and connection), largest districts
   first. Reported: total wall time, per-district mean / median / max, the largest
   district, lines and money.
3. **The check.** For a sample of districts (the largest plus `--sample` drawn at random),
   the lines of 特别扶助金 against the floor — one SQL `SUM` over persons ⋈ households
   with the eligibility (`bench.benefits_bench`'s floor, generalised to the month) — count
   and total must agree; the floor's time beside the district's cycle time.

`--fresh` deletes the payment lines and cycles of the scale districts first (only this
benchmark writes them; audit events stay). Prints JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

ROOT = Path(__file__).resolve().parent.parent
STAND_IN = "基准测试替身（bench/benefits_national.py）：开封市 汴政办〔2023〕24号 的扶助标准"
SCALE = "scale-%"

#: 特别扶助金 for one district and month: the eligible persons and their sum (the floor).
FLOOR = """
SELECT count(*), coalesce(sum(CASE WHEN :month >= DATE '2023-08-01' THEN 1430 ELSE 1180 END), 0)
FROM persons p JOIN households h ON h.tenant_id = p.tenant_id AND h.id = p.household_id
WHERE h.tenant_id = :t AND h.category = 'bereaved' AND h.registered_on <= :month
  AND NOT (h.status = 'exited' AND (h.exit_date IS NULL OR h.exit_date <= :month))
  AND h.woman_birth_date <= :born_by
  AND p.relationship IN ('principal', 'spouse')
  AND (CASE WHEN p.death_date IS NULL THEN p.alive ELSE p.death_date > :month END)
"""
LINES = """
SELECT count(*), coalesce(sum(l.amount), 0) FROM payment_lines l
JOIN payment_cycles c ON c.tenant_id = l.tenant_id AND c.id = l.cycle_id
WHERE l.tenant_id = :t AND c.period = :month AND l.kind = 'regular' AND l.standard_key = :key
"""


def urls(db_name: str) -> tuple[str, str]:
    """The owner's URL (setup, checks) and the app role's (the run, under RLS)."""
    from bench.run import APP_ROLE, PG_ADMIN

    base = sa.engine.make_url(PG_ADMIN)
    owner = base.set(database=db_name).render_as_string(hide_password=False)
    app = base.set(database=db_name, username=APP_ROLE, password=None)
    return owner, app.render_as_string(hide_password=False)


def kaifeng() -> tuple[dict, list[dict]]:
    """开封's policy header and its measures, each with only its register-based standards."""
    data = yaml.safe_load((ROOT / "tenants" / "kaifeng.yaml").read_text(encoding="utf-8"))
    measures = []
    for m in data["measures"]:
        register = [
            b
            for b in m.get("benefits") or []
            if (b.get("entitlement") or {}).get("basis") == "register"
        ]
        if register:
            measures.append({**m, "benefits": register})
    return data["policy"], measures


def _id(tenant_id: Any, *parts: Any) -> uuid.UUID:
    """A stable id per district and row (reruns add nothing twice)."""
    return uuid.uuid5(uuid.UUID(str(tenant_id)), "bench-national/" + "/".join(map(str, parts)))


def add_standards(conn: sa.Connection) -> dict:
    """The stand-in standards for every scale district that lacks them (module docstring,
    step 1): the rows `policy.loader.apply_policy` would write for those measures, built
    here for all districts at once and inserted table by table."""
    from portal.policy.models import (
        BenefitStandard,
        BenefitValue,
        Measure,
        PolicyDocument,
        PolicyVersion,
    )

    meta, measures = kaifeng()
    tenants = conn.execute(
        sa.text(
            "SELECT id FROM tenants t WHERE slug LIKE :s AND NOT EXISTS "
            "(SELECT 1 FROM policy_versions v WHERE v.tenant_id = t.id AND v.source = :src)"
        ),
        {"s": SCALE, "src": STAND_IN},
    ).scalars()
    rows: dict[Any, list[dict]] = {t: [] for t in (PolicyDocument, PolicyVersion, Measure)}
    rows[BenefitStandard], rows[BenefitValue] = [], []
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for tid in tenants:
        doc, version = _id(tid, "document"), _id(tid, "version")
        rows[PolicyDocument].append(
            {"tenant_id": tid, "id": doc, "title": meta["title"], "created_at": now}
        )
        rows[PolicyVersion].append(
            {
                "tenant_id": tid,
                "id": version,
                "document_id": doc,
                "created_at": now,
                "title": f"{meta['title']}（{STAND_IN}）",
                "doc_number": meta["doc_number"],
                "issuers": meta["issuers"],
                "issued_on": meta["issued_on"],
                "effective_from": meta["effective_from"],
                "effective_until": None,
                "supersedes": [],
                "status": "in_force",
                "source": STAND_IN,
            }  # fmt: skip
        )
        for pos, m in enumerate(measures):
            mid = _id(tid, "measure", m["number"])
            rows[Measure].append(
                {
                    "tenant_id": tid,
                    "id": mid,
                    "version_id": version,
                    "number": str(m["number"]),
                    "position": pos,
                    "category": m["category"],
                    "title": m["title"],
                    "text": m.get("text") or "",
                    "creates_duty": False,
                    "clause": "measure",
                    "lead_from_document": False,
                    "inferred": {},
                    "row_version": 1,
                }  # fmt: skip
            )
            for bpos, b in enumerate(m["benefits"]):
                bid = _id(tid, "benefit", m["number"], b["name"])
                rows[BenefitStandard].append(
                    {
                        "tenant_id": tid,
                        "id": bid,
                        "measure_id": mid,
                        "position": bpos,
                        "name": b["name"],
                        "unit": b["unit"],
                        "frequency": b["frequency"],
                        "festivals": [],
                        "amount_is_floor": False,
                        "amount_note": "",
                        "max_quantity": b.get("max_quantity"),
                        "max_quantity_unit": b.get("max_quantity_unit"),
                        "hours_per_month": None,
                        "eligibility": dict(b.get("eligibility") or {}),
                        "funding_split": list(b.get("funding_split") or []),
                        "funding_split_applies_to": b.get("funding_split_applies_to") or "",
                        "funding_note": b.get("funding_note") or "",
                        "note": b.get("note") or "",
                        "entitlement": dict(b.get("entitlement") or {}),
                    }  # fmt: skip
                )
                for v in b.get("values") or []:
                    rows[BenefitValue].append(
                        {
                            "tenant_id": tid,
                            "id": _id(tid, "value", bid, v.get("effective_from")),
                            "benefit_id": bid,
                            "amount": v["amount"],
                            "recorded_at": now,
                            "effective_from": v.get("effective_from"),
                            "in_force_before": v.get("in_force_before"),
                            "source": v.get("source") or "",
                        }  # fmt: skip
                    )
    for model, batch in rows.items():
        for i in range(0, len(batch), 5000):
            conn.execute(sa.insert(model.__table__), batch[i : i + 5000])
    conn.commit()
    return {"districts": len(rows[PolicyVersion]), "rows": sum(map(len, rows.values()))}


def remove(conn: sa.Connection) -> dict:
    """Undo this benchmark in the scale districts: its payment lines and cycles, then the
    stand-in versions with their measures, standards and values (children first). The
    audit events of the cycles stay (the chains must not break)."""
    done = {}
    scale = "(SELECT id FROM tenants WHERE slug LIKE :s)"
    version = "(SELECT id FROM policy_versions WHERE source = :src AND tenant_id IN " + scale + ")"
    measure = f"(SELECT id FROM measures WHERE version_id IN {version})"
    benefit = f"(SELECT id FROM benefit_standards WHERE measure_id IN {measure})"
    for table, where in (
        ("payment_lines", f"tenant_id IN {scale}"),
        ("payment_cycles", f"tenant_id IN {scale}"),
        ("benefit_values", f"benefit_id IN {benefit}"),
        ("benefit_standards", f"id IN {benefit}"),
        ("measures", f"id IN {measure}"),
        ("policy_versions", f"id IN {version}"),
        ("policy_documents", "title = :title AND id NOT IN (SELECT document_id FROM policy_versions)"
         f" AND tenant_id IN {scale}"),
    ):  # fmt: skip
        got = conn.execute(
            sa.text(f"DELETE FROM {table} WHERE {where}"),  # noqa: S608 - fixed names
            {"s": SCALE, "src": STAND_IN, "title": kaifeng()[0]["title"]},
        )
        done[table] = got.rowcount
    conn.commit()
    return done


def make_app(app_url: str) -> Any:
    from bench.run import BENCH_PII_KEY

    os.environ.setdefault("PORTAL_PII_KEY", BENCH_PII_KEY)
    os.environ.setdefault("PORTAL_SECRET_KEY", "bench")
    from portal import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": app_url,
            "SECRET_KEY": "bench",
            "AUDIT_KEY": "bench",
            "RATELIMIT_ENABLED": False,
        }  # fmt: skip
    )


def run_district(tenant_id: str, month: dt.date) -> dict:
    """One district's monthly cycle, as the officer's compute or a CLI would run it: in the
    district's scope, create and compute, one commit (the CLI's unit of work)."""
    from portal.benefits import operations
    from portal.extensions import db
    from portal.kernel.grants import SYSTEM
    from portal.kernel.uow import cli_transaction
    from portal.tenancy import scope

    started = time.perf_counter()
    with scope.tenant_scope(uuid.UUID(tenant_id)), cli_transaction():
        cycle = operations.create_cycle(SYSTEM, month)
        operations.compute_cycle(SYSTEM, cycle, cycle.row_version)
        lines, total = cycle.line_count, cycle.total
    seconds = time.perf_counter() - started
    db.session.remove()
    return {"tenant_id": tenant_id, "s": seconds, "lines": lines, "total": str(total)}


_WORKER: dict = {}


def _init(app_url: str, warm: tuple[str, dt.date] | None = None) -> None:
    """A worker's app and context; `warm`: read one district's facts and standards once
    (imports, mappers, compiled statements), then roll back — a process's start, not a
    district's cost."""
    from portal.benefits.facts import policy_standards, register_facts
    from portal.extensions import db
    from portal.tenancy import scope

    app = make_app(app_url)
    ctx = app.app_context()
    ctx.push()
    _WORKER["ctx"] = ctx
    if warm is not None:
        with scope.tenant_scope(uuid.UUID(warm[0])):
            register_facts()
            policy_standards(warm[1])
        db.session.rollback()
        db.session.remove()


def _one(args: tuple[str, dt.date]) -> dict:
    return run_district(*args)


_STARTED = time.perf_counter()


def _progress(i: int, result: dict) -> dict:
    """A line on stderr every 200 districts (a long run can be followed)."""
    if i % 200 == 0:
        print(f"{i} districts, {time.perf_counter() - _STARTED:.0f} s", file=sys.stderr)
    return result


def run(app_url: str, districts: list[tuple[str, int]], month: dt.date, workers: int) -> list:
    """Every district's cycle; largest first (with several workers the long ones start
    early, so no worker is left with one at the end). Each process warms up on the
    smallest district (read only) before its first cycle."""
    order = [(tid, month) for tid, _n in sorted(districts, key=lambda d: -d[1])]
    warm = (order[-1][0], month)
    if workers <= 1:
        _init(app_url, warm)
        return [_progress(i, _one(a)) for i, a in enumerate(order, start=1)]
    pool = multiprocessing.get_context("spawn").Pool(workers, _init, (app_url, warm))
    try:
        return [
            _progress(i, r)
            for i, r in enumerate(pool.imap_unordered(_one, order, chunksize=1), start=1)
        ]
    finally:
        pool.close()
        pool.join()


def check(conn: sa.Connection, sample: list[str], month: dt.date, key: str) -> list[dict]:
    """Lines of 特别扶助金 against the floor, district by district (count and total)."""
    from portal.benefits.engine import age_cutoff

    out = []
    for tid in sample:
        params = {"t": tid, "month": month, "born_by": age_cutoff(month, 49), "key": key}
        started = time.perf_counter()
        floor = conn.execute(sa.text(FLOOR), params).one()
        floor_s = time.perf_counter() - started
        got = conn.execute(sa.text(LINES), params).one()
        out.append(
            {
                "tenant_id": tid,
                "floor": [int(floor[0]), str(floor[1])],
                "lines": [int(got[0]), str(got[1])],
                "floor_s": round(floor_s, 4),
                "agree": int(floor[0]) == int(got[0]) and floor[1] == got[1],
            }  # fmt: skip
        )
    return out


def main() -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default="bench_2800")
    ap.add_argument("--month", default="2026-11-01", type=dt.date.fromisoformat)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--sample", type=int, default=20)
    ap.add_argument("--limit", type=int, default=0, help="only the first N districts (trials)")
    ap.add_argument("--fresh", action="store_true")
    ap.add_argument("--remove", action="store_true", help="only undo this benchmark's rows")
    args = ap.parse_args()
    owner_url, app_url = urls(args.db)
    if args.remove:
        owner = sa.create_engine(owner_url)
        with owner.connect() as conn:
            return {"removed": remove(conn)}
    out: dict = {"db": args.db, "month": args.month.isoformat(), "workers": args.workers,
                 "load_before": os.getloadavg()}  # fmt: skip
    owner = sa.create_engine(owner_url)
    with owner.connect() as conn:
        if args.fresh:
            for table in ("payment_lines", "payment_cycles"):
                conn.execute(
                    sa.text(
                        f"DELETE FROM {table} WHERE tenant_id IN "  # noqa: S608 - two names
                        "(SELECT id FROM tenants WHERE slug LIKE :s)"
                    ),
                    {"s": SCALE},
                )
            conn.commit()
        started = time.perf_counter()
        out["standards"] = add_standards(conn)
        out["standards"]["s"] = round(time.perf_counter() - started, 2)
        districts = [
            (str(t), n)
            for t, n in conn.execute(
                sa.text(
                    "SELECT t.id, (SELECT count(*) FROM persons p WHERE p.tenant_id = t.id) "
                    "FROM tenants t WHERE t.slug LIKE :s ORDER BY t.slug"
                ),
                {"s": SCALE},
            )
        ]
    if args.limit:
        districts = districts[: args.limit]
    persons = dict(districts)
    out["districts"], out["persons"] = len(districts), sum(persons.values())
    wall = time.perf_counter()
    results = run(app_url, districts, args.month, args.workers)
    out["run_s"] = round(time.perf_counter() - wall, 1)
    out["run_min"] = round(out["run_s"] / 60, 2)
    out["load_after"] = os.getloadavg()
    times = [r["s"] for r in results]
    out["per_district_s"] = {
        "mean": round(statistics.mean(times), 3),
        "median": round(statistics.median(times), 3),
        "max": round(max(times), 3),
    }
    out["lines"] = sum(r["lines"] for r in results)
    out["total_yuan"] = str(sum(float(r["total"]) for r in results))
    largest = max(results, key=lambda r: persons[r["tenant_id"]])
    out["largest"] = {"persons": persons[largest["tenant_id"]], "s": round(largest["s"], 3),
                      "lines": largest["lines"], "total": largest["total"]}  # fmt: skip
    slowest = max(results, key=lambda r: r["s"])
    out["slowest"] = {"persons": persons[slowest["tenant_id"]], "s": round(slowest["s"], 3)}
    _meta, measures = kaifeng()
    key = f"{measures[0]['number']}/{measures[0]['benefits'][0]['name']}"
    rng = random.Random("benefits-national")  # noqa: S311 - a sample, not a secret
    others = [r["tenant_id"] for r in results if r is not largest]
    sample = [largest["tenant_id"], *rng.sample(others, min(args.sample, len(others)))]
    with owner.connect() as conn:
        checked = check(conn, sample, args.month, key)
    owner.dispose()
    by_id = {r["tenant_id"]: r for r in results}
    for c in checked:
        c["persons"], c["cycle_s"] = persons[c["tenant_id"]], round(by_id[c["tenant_id"]]["s"], 3)
    out["check"] = {"districts": len(checked), "all_agree": all(c["agree"] for c in checked),
                    "largest": checked[0], "rows": checked}  # fmt: skip
    return out


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2, default=str))
