"""Benefits benchmark: one monthly cycle for the LARGEST district (20,000 persons) on a
fresh database, against the floor — a single set-based SQL query that sums the same
standard for the same persons — measured in one run (not the national run of 2,800
districts the issue asks for; see docs/performance.md).

- `compute_cycle` end to end (register facts read, standards, engine, settlement against
  earlier cycles, one set-based INSERT of the lines, the audited event, commit);
- the same with an earlier month closed (settlement has something to compare against);
- the engine alone in memory (`compute_month`) on the same facts, the median of five runs
  like the floor (and the register facts read that feeds it, apart);
- the floor: SUM over persons JOIN households with the eligibility in SQL (开封 特别扶助金:
  失独, woman 49 on the 1st, both parents alive, 1430 元 from 2023-08-01); the totals agree.

Run: PYTHONPATH=$PWD PORTAL_TEST_BACKEND=postgres .venv/bin/python -m bench.benefits_bench [households]
(default 10,000; 536 households = 1,072 persons is the national average district, 3 million
persons over 2,800 districts, for the projection in docs/performance.md).
`--districts K [households]`: K such districts in one database, one cycle each in turn.
It builds a fresh demo database (its own district added) through the tests' `Databases` helper, drops it after.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

HOUSEHOLDS = 10_000  # 2 persons each: the largest district, 20,000 persons
MONTHS = (dt.date(2024, 2, 1), dt.date(2024, 3, 1))  # not January: no yearly premium

#: The floor's persons: 失独, woman 49 on the 1st, both parents, alive on the 1st.
ELIGIBLE = """
FROM persons p JOIN households h ON h.tenant_id = p.tenant_id AND h.id = p.household_id
WHERE h.tenant_id = :t AND h.status = 'registered' AND h.category = 'bereaved'
  AND h.registered_on <= :month AND h.woman_birth_date <= :born_by
  AND p.relationship IN ('principal', 'spouse')
  AND (CASE WHEN p.death_date IS NULL THEN p.alive ELSE p.death_date > :month END)
"""
FLOOR = (
    "SELECT count(*), "
    "coalesce(sum(CASE WHEN :month >= DATE '2023-08-01' THEN 1430 ELSE 1180 END), 0)" + ELIGIBLE
)
#: What "eligibility in SQL" would fetch before any line is built: the floor's persons
#: themselves, with what a line needs of them (ids as text, relationship, birth date).
ELIGIBLE_ROWS = (
    "SELECT h.id::text, h.number, h.woman_birth_date, p.id::text, p.relationship, "
    "p.birth_date" + ELIGIBLE + "ORDER BY h.id, p.id"
)


def seed(tenant_id: uuid.UUID, n: int) -> None:
    """`n` confirmed 失独 households with their couple: a bulk load (core INSERTs, like the
    demo's accounts; no audit events), resident IDs encrypted and indexed as the app does."""
    from portal.db import new_id
    from portal.extensions import db
    from portal.register import pii
    from portal.register.models import Area, AreaKind, Household, Person

    rng = random.Random("benefits-bench")  # noqa: S311 - synthetic data
    village = db.session.execute(sa.select(Area).filter_by(kind=AreaKind.village)).scalars().first()
    households, persons = [], []
    for i in range(n):
        hid = new_id()
        woman = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 35 * 365))
        man = woman - dt.timedelta(days=rng.randrange(0, 2000))
        households.append(
            {
                "tenant_id": tenant_id,
                "id": hid,
                "number": f"B{i:06d}",
                "town_id": village.parent_id,
                "village_id": village.id,
                "category": "bereaved",
                "woman_birth_date": woman,
                "registered_on": dt.date(2010, 1, 1),
                "head_name": "测试",
            }  # fmt: skip
        )
        for pos, (rel, born, gender) in enumerate(
            [("principal", woman, "female"), ("spouse", man, "male")]
        ):
            number = f"41010{pos}{born:%Y%m%d}{rng.randrange(1000):03d}X"
            died = rng.random() < 0.02
            persons.append(
                {
                    "tenant_id": tenant_id,
                    "id": uuid.uuid4(),
                    "household_id": hid,
                    "position": pos,
                    "relationship": rel,
                    "name": f"测试{pos}",
                    "id_number": number,
                    "id_index": pii.blind_index(number, "id_number"),
                    "birth_date": born,
                    "gender": gender,
                    "alive": not died,
                    "death_date": dt.date(2024, 2, 10) if died else None,
                }  # fmt: skip
            )
    conn = db.session.connection()  # inside the district's scope: RLS checks every row
    conn.execute(sa.insert(Household.__table__), households)
    conn.execute(sa.insert(Person.__table__), persons)
    db.session.commit()


def close(user, month: dt.date) -> None:  # type: ignore[no-untyped-def]
    """Review, approve, export and import the month's cycle as all paid (the bank's copy)."""
    from portal.benefits import bank, operations
    from portal.benefits.models import PaymentCycle
    from portal.extensions import db

    cycle = db.session.execute(
        sa.select(PaymentCycle).where(PaymentCycle.period == month)
    ).scalar_one()
    operations.review_cycle(user, cycle, cycle.row_version)
    operations.approve_cycle(user, cycle, cycle.row_version)
    lines = bank.bank_lines(cycle)
    bank.mark_exported(user, cycle, len(lines), [])
    results = [{"row": i, "line_id": str(x.id), "amount": x.amount,
                "paid": True, "reason": ""} for i, x in enumerate(lines)]  # fmt: skip
    bank.import_results(user, cycle, results, cycle.row_version)
    db.session.commit()


def timed(fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def main(n: int = HOUSEHOLDS) -> dict:
    from portal.benefits import engine, operations
    from portal.benefits.facts import policy_standards, register_facts
    from portal.extensions import db
    from portal.kernel.grants import SYSTEM
    from portal.tenancy import scope
    from tests.benefits.dbhelpers import kaifeng_data, new_district
    from tests.conftest import BACKEND, Databases, make_app

    tmp = Path(tempfile.mkdtemp(prefix="benefits-bench-"))
    dbs = Databases(tmp)
    out: dict = {"backend": BACKEND, "households": n, "persons": 2 * n}
    try:
        app = make_app(dbs.new(demo=True))
        with app.app_context():
            tenant = new_district("bench-benefits", kaifeng_data())
            with scope.tenant_scope(tenant.id):
                _none, out["seed_s"] = timed(lambda: seed(tenant.id, n))
                cycles = []
                for month in MONTHS:
                    cycle = operations.create_cycle(SYSTEM, month)

                    def run(cycle=cycle):  # type: ignore[no-untyped-def]
                        operations.compute_cycle(SYSTEM, cycle, cycle.row_version)
                        db.session.commit()

                    _none, seconds = timed(run)
                    cycles.append({"month": month.isoformat(), "lines": cycle.line_count,
                                   "total": str(cycle.total), "compute_s": round(seconds, 3)})  # fmt: skip
                    if month != MONTHS[-1]:  # close it: the next one settles against it
                        close(SYSTEM, month)
                out["cycles"] = cycles
                facts, out["facts_read_s"] = timed(register_facts)
                _v, standards = policy_standards(MONTHS[-1])
                runs, cpu = [], []  # the engine, like the floor: the median of five runs
                for _ in range(5):
                    started = time.process_time()
                    lines, seconds = timed(
                        lambda: engine.compute_month(MONTHS[-1], facts, standards)
                    )
                    cpu.append(time.process_time() - started)
                    runs.append(seconds)
                engine_s = sorted(runs)[2]
                out["engine_only_s"] = round(engine_s, 4)
                out["engine_runs_s"] = [round(x, 4) for x in runs]
                # on a shared machine the wall time is mostly waiting for a core: the CPU
                # the engine used is the figure that does not move with the load
                out["engine_cpu_s"] = round(sorted(cpu)[2], 4)
                out["facts_read_s"] = round(out["facts_read_s"], 3)
                month = MONTHS[-1]
                params = {"t": tenant.id, "month": month,
                          "born_by": engine.birthday(month, -49)}  # fmt: skip
                floors = []
                for _ in range(5):
                    row, seconds = timed(lambda: db.session.execute(sa.text(FLOOR), params).one())
                    floors.append(seconds)
                out["floor_s"] = round(sorted(floors)[2], 4)
                out["floor_runs_s"] = [round(x, 4) for x in floors]
                out["floor_lines"], out["floor_total"] = int(row[0]), str(row[1])
                fetches = []
                for _ in range(5):
                    got, seconds = timed(
                        lambda: db.session.execute(sa.text(ELIGIBLE_ROWS), params).all()
                    )
                    fetches.append(seconds)
                out["eligible_rows_fetch_s"] = round(sorted(fetches)[2], 4)
                out["eligible_rows"] = len(got)
                out["ratio_eligible_rows_fetch_to_floor"] = round(
                    out["eligible_rows_fetch_s"] / out["floor_s"], 1
                )
                regular = [x for x in lines if x.standard_key.startswith("1/")]
                out["engine_lines"] = len(regular)
                out["engine_total"] = str(sum(x.amount for x in regular))
                out["ratio_cycle_to_floor"] = round(cycles[-1]["compute_s"] / out["floor_s"], 1)
                out["ratio_engine_to_floor"] = round(engine_s / out["floor_s"], 1)
                out["ratio_engine_cpu_to_floor"] = round(out["engine_cpu_s"] / out["floor_s"], 1)
                # the best of five of each (timeit's choice on a noisy machine), beside the medians
                out["ratio_engine_to_floor_best"] = round(min(runs) / min(floors), 1)
                # and five more with the garbage collector off while timing, as timeit does:
                # a full collection over this process's heap (seed, two cycles, bank files)
                # lands in some runs and doubles them
                quiet = []
                gc.collect()
                gc.disable()
                try:
                    for _ in range(5):
                        quiet.append(
                            timed(lambda: engine.compute_month(MONTHS[-1], facts, standards))[1]
                        )
                finally:
                    gc.enable()
                out["engine_gc_off_runs_s"] = [round(x, 4) for x in quiet]
                out["ratio_engine_gc_off_to_floor"] = round(sorted(quiet)[2] / out["floor_s"], 1)
                out["ratio_engine_gc_off_to_floor_best"] = round(min(quiet) / min(floors), 1)
                read_and_engine = out["facts_read_s"] + engine_s
                out["ratio_facts_read_and_engine_to_floor"] = round(
                    read_and_engine / out["floor_s"], 1
                )
                out["first_cycle_ms_per_person"] = round(cycles[0]["compute_s"] * 1000 / (2 * n), 3)
                db.session.remove()
    finally:
        dbs.drop_all()
    return out


def districts(k: int, n: int) -> dict:
    """`k` districts of `n` households each in one database, then one monthly cycle per
    district in turn (create, compute, commit), then each closed and the next month's
    cycle (settled against it) in turn — the national run's unit of work, measured on a
    sample; the 2,800-district figure is a projection from it, labelled as such."""
    from portal.benefits import operations
    from portal.extensions import db
    from portal.kernel.grants import SYSTEM
    from portal.tenancy import scope
    from tests.benefits.dbhelpers import kaifeng_data, new_district
    from tests.conftest import BACKEND, Databases, make_app

    tmp = Path(tempfile.mkdtemp(prefix="benefits-bench-"))
    dbs = Databases(tmp)
    out: dict = {"backend": BACKEND, "districts": k, "households_each": n, "persons": 2 * n * k}
    try:
        app = make_app(dbs.new(demo=True))
        with app.app_context():
            tenants = []
            started = time.perf_counter()
            for i in range(k):
                tenant = new_district(f"bench-benefits-{i}", kaifeng_data())
                with scope.tenant_scope(tenant.id):
                    seed(tenant.id, n)
                tenants.append(tenant.id)
            out["seed_s"] = round(time.perf_counter() - started, 1)
            for label, month in (("first", MONTHS[0]), ("next", MONTHS[1])):
                per, lines = [], 0
                wall, cpu = time.perf_counter(), time.process_time()
                for tid in tenants:
                    with scope.tenant_scope(tid):
                        one = time.perf_counter()
                        cycle = operations.create_cycle(SYSTEM, month)
                        operations.compute_cycle(SYSTEM, cycle, cycle.row_version)
                        db.session.commit()
                        per.append(time.perf_counter() - one)
                        lines += cycle.line_count
                    db.session.remove()
                out[label] = {
                    "month": month.isoformat(),
                    "cycles_s": round(time.perf_counter() - wall, 2),
                    "client_cpu_s": round(time.process_time() - cpu, 2),
                    "lines": lines,
                    "per_district_s": {
                        "mean": round(sum(per) / k, 3),
                        "median": round(sorted(per)[k // 2], 3),
                        "max": round(max(per), 3),
                    },
                    "projection_2800_districts_min": round(2800 * sum(per) / k / 60, 1),
                }
                if label == "first":  # close each: the next cycle settles against it
                    for tid in tenants:
                        with scope.tenant_scope(tid):
                            close(SYSTEM, month)
                        db.session.remove()
    finally:
        dbs.drop_all()
    return out


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--districts":
        k, n = int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 536
        print(json.dumps(districts(k, n), ensure_ascii=False, indent=2, default=str))
        sys.exit(0)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else HOUSEHOLDS
    print(json.dumps(main(n), ensure_ascii=False, indent=2, default=str))
