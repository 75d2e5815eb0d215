"""The families register at national scale, for the benchmark (bench/README.md).

    PORTAL_DATABASE_URL=… PORTAL_MIGRATE_DATABASE_URL=… PORTAL_PII_KEY=… \
        python -m bench.seed_register [--national-districts 2800] [--persons 3000000]

Runs on a database `bench.seed_scale` has filled (its `scale-NNNNN` districts). Every
district gets towns and villages, households and persons with a long-tailed size
distribution: district sizes follow a power law over the *national* ranks (2,800
districts, ~3 million persons, the largest 20,000), so a run with fewer districts holds
the first N districts of that national table — and the measured district (the middle
one, as in `bench/run.py`) is given the largest size, the worst case.

Set-based: rows are written with COPY as the schema owner (bypasses RLS), never through
the ORM. Encrypted like the app does: every resident ID and phone number is sealed with
`portal.register.pii.encrypt` under the current key and indexed with its blind index —
one encryption per value, no pool (AES-GCM in `cryptography` costs a few µs). Names come
from a pool of Faker zh_CN names drawn once. No audit events are written for these rows
(a bulk load, like the demo's COPY); the district's town officer account is added for
the measured district only (`<slug>-town1`, bench password).

Idempotent: a district that has areas already is skipped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import random
import time
import uuid
from collections.abc import Callable

import click
import sqlalchemy as sa

NATIONAL_DISTRICTS = 2800
NATIONAL_PERSONS = 3_000_000
LARGEST = 20_000
SMALLEST = 60
PERSONS_PER_HOUSEHOLD = 2.2  # couples, a child for most disabled-child households
TOWNS = 12
VILLAGES_PER_TOWN = 18


def district_sizes(n: int = NATIONAL_DISTRICTS, total: int = NATIONAL_PERSONS) -> list[int]:
    """Persons per district by national rank: LARGEST * rank^-a, floored at SMALLEST,
    with `a` solved so the sizes add up to `total` (bisection)."""

    def sizes(a: float) -> list[int]:
        return [max(SMALLEST, round(LARGEST * r**-a)) for r in range(1, n + 1)]

    low, high = 0.01, 3.0
    for _ in range(60):
        mid = (low + high) / 2
        if sum(sizes(mid)) > total:
            low = mid
        else:
            high = mid
    return sizes(high)


def national_ranks(n: int, seed: str = "register-scale") -> list[int]:
    """A fixed shuffle of the national ranks: district i (1-based) has rank ranks[i-1]."""
    ranks = list(range(1, n + 1))
    random.Random(seed).shuffle(ranks)
    return ranks


@dataclasses.dataclass
class Report:
    districts: int = 0
    households: int = 0
    persons: int = 0
    areas: int = 0
    seconds: float = 0.0
    encrypt_seconds: float = 0.0


class Names:
    """A pool of synthetic zh_CN names (Faker once; cycling through them is enough)."""

    def __init__(self, rng: random.Random, size: int = 3000) -> None:
        from faker import Faker

        fake = Faker("zh_CN")
        fake.seed_instance(rng.randrange(10**9))
        self.surnames = [fake.last_name() for _ in range(200)]
        self.female = [fake.first_name_female() for _ in range(size)]
        self.male = [fake.first_name_male() for _ in range(size)]
        self.rng = rng

    def name(self, female: bool) -> str:
        pool = self.female if female else self.male
        return self.rng.choice(self.surnames) + self.rng.choice(pool)


def _date(rng: random.Random, start: int, end: int) -> dt.date:
    first = dt.date(start, 1, 1).toordinal()
    return dt.date.fromordinal(rng.randrange(first, dt.date(end, 12, 28).toordinal()))


def _copy(conn: sa.Connection, table: sa.Table, cols: list[str], rows: list[tuple]) -> None:
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:  # type: ignore[union-attr]
        collist = ", ".join(f'"{c}"' for c in cols)
        with cur.copy(f'COPY "{table.name}" ({collist}) FROM STDIN') as copy:
            for r in rows:
                copy.write_row(r)


def seed_district(
    conn: sa.Connection, tenant_id: uuid.UUID, slug: str, persons_wanted: int, report: Report
) -> None:
    from portal.db import new_id, utcnow
    from portal.register import pii
    from portal.register.demo import LEVELS, IdMaker
    from portal.register.models import Area, Category, ExitReason, Household, Person

    rng = random.Random(f"register-scale-{slug}")
    names = Names(rng) if not hasattr(seed_district, "names") else seed_district.names  # type: ignore[attr-defined]
    seed_district.names = names  # type: ignore[attr-defined]
    names.rng = rng
    ids = IdMaker(f"{410000 + rng.randrange(100, 9999):06d}", rng)
    now = utcnow()
    town_count = max(2, min(TOWNS, persons_wanted // 400))
    area_rows, villages = [], []
    for t in range(town_count):
        town_id = new_id()
        area_rows.append((tenant_id, town_id, "town", f"示例街道{t + 1}", None, t, now))
        for v in range(VILLAGES_PER_TOWN):
            vid = new_id()
            area_rows.append(
                (tenant_id, vid, "village", f"示例社区{t + 1}-{v + 1}", town_id, v, now)
            )
            villages.append((town_id, vid, f"示例社区{t + 1}-{v + 1}"))
    _copy(
        conn,
        Area.__table__,
        ["tenant_id", "id", "kind", "name", "parent_id", "sort_order", "created_at"],
        area_rows,
    )
    households, persons = [], []
    categories = list(Category)
    n_households = max(1, round(persons_wanted / PERSONS_PER_HOUSEHOLD))
    t0 = time.perf_counter()
    for i in range(n_households):
        town_id, village_id, village_name = villages[rng.randrange(len(villages))]
        category = rng.choices(categories, weights=[6, 3, 1])[0]
        hid = new_id()
        woman_born = _date(rng, 1945, 1977)
        man_born = woman_born - dt.timedelta(days=rng.randrange(0, 2500))
        members = [("principal", names.name(True), woman_born, True)]
        members.append(("spouse", names.name(False), man_born, False))
        if category == Category.disabled_child:
            members.append(("child", names.name(rng.random() < 0.5), _date(rng, 1985, 2005), False))
        exited = i % 40 == 7
        households.append(
            (
                tenant_id,
                hid,
                f"D{i + 1:06d}",
                town_id,
                village_id,
                category.name,
                rng.choice(LEVELS[category]),
                f"{village_name}{rng.randrange(1, 40)}号楼",
                members[0][1],
                woman_born,
                "exited" if exited else "registered",
                rng.choice(list(ExitReason)).name if exited else None,
                _date(rng, 2023, 2025) if exited else None,
                _date(rng, 2008, 2025),
                now,
                1,
            )
        )
        for pos, (relationship, name, born, female) in enumerate(members):
            number = ids.make(born, female)
            phone = (
                rng.choice(["138", "139", "150", "186"]) + f"{rng.randrange(10**8):08d}"
                if relationship != "child"
                else None
            )
            persons.append(
                (
                    tenant_id,
                    new_id(),
                    hid,
                    pos,
                    relationship,
                    name,
                    pii.encrypt(number, "id_number"),
                    pii.blind_index(number, "id_number"),
                    born,
                    "female" if female else "male",
                    pii.encrypt(phone, "phone") if phone else None,
                    pii.blind_index(phone, "phone") if phone else None,
                    True,
                    None,
                    "",
                    now,
                )
            )
    report.encrypt_seconds += time.perf_counter() - t0
    _copy(
        conn,
        Household.__table__,
        [
            "tenant_id",
            "id",
            "number",
            "town_id",
            "village_id",
            "category",
            "level",
            "address",
            "head_name",
            "woman_birth_date",
            "status",
            "exit_reason",
            "exit_date",
            "registered_on",
            "created_at",
            "row_version",
        ],
        households,
    )
    _copy(
        conn,
        Person.__table__,
        [
            "tenant_id",
            "id",
            "household_id",
            "position",
            "relationship",
            "name",
            "id_number",
            "id_index",
            "birth_date",
            "gender",
            "phone",
            "phone_index",
            "alive",
            "death_date",
            "disability_grade",
            "created_at",
        ],
        persons,
    )
    report.areas += len(area_rows)
    report.households += len(households)
    report.persons += len(persons)
    report.districts += 1


def add_town_officer(conn: sa.Connection, slug: str, tenant_id: uuid.UUID) -> str:
    """`<slug>-town1`, bound to the district's first town (the lead's password hash)."""
    from portal.db import new_id
    from portal.register.models import Area, OfficerTown

    md = sa.MetaData()
    users = sa.Table("users", md, autoload_with=conn)
    username = f"{slug}-town1"
    if conn.execute(sa.select(users.c.id).where(users.c.username == username)).first():
        return username
    lead = conn.execute(sa.select(users).where(users.c.username == f"{slug}-lead")).mappings().one()
    row = dict(lead)
    row.update(
        id=new_id(),
        username=username,
        display_name="示例街道1经办人",
        role="town_officer",
        department_id=None,
        last_login_at=None,
    )
    conn.execute(users.insert().values(**row))
    town = conn.execute(
        sa.select(Area.id)
        .where(Area.tenant_id == tenant_id, Area.kind == "town")
        .order_by(Area.sort_order)
        .limit(1)
    ).scalar_one()
    conn.execute(
        sa.insert(OfficerTown.__table__).values(
            tenant_id=tenant_id, id=new_id(), user_id=row["id"], town_id=town
        )
    )
    return username


def seed_register(
    measured_slug: str | None,
    national_districts: int = NATIONAL_DISTRICTS,
    national_persons: int = NATIONAL_PERSONS,
    say: Callable[[str], None] = print,
) -> Report:
    from bench.seed import PREFIX, _bulk_engine, _cross_tenant
    from portal.extensions import db

    report = Report()
    started = time.perf_counter()
    engine, copy = _bulk_engine(db.engine)
    if not copy:
        raise click.ClickException(
            "COPY needs PORTAL_MIGRATE_DATABASE_URL (a role that bypasses RLS)"
        )
    sizes = district_sizes(national_districts, national_persons)
    ranks = national_ranks(national_districts)
    with engine.connect() as conn:
        tenants = conn.execute(
            sa.text("SELECT slug, id FROM tenants WHERE slug LIKE :p ORDER BY slug"),
            {"p": f"{PREFIX}-%"},
        ).all()
        done = set(conn.execute(sa.text("SELECT DISTINCT tenant_id FROM areas")).scalars())
    for i, (slug, tenant_id) in enumerate(tenants, start=1):
        if tenant_id in done:
            continue
        wanted = LARGEST if slug == measured_slug else sizes[ranks[(i - 1) % len(ranks)] - 1]
        with engine.begin() as conn:
            _cross_tenant(conn)
            seed_district(conn, tenant_id, slug, wanted, report)
            if slug == measured_slug:
                say(
                    f"measured district {slug}: town officer {add_town_officer(conn, slug, tenant_id)}"
                )
        if report.districts % 25 == 0:
            say(
                f"{report.districts} districts, {report.persons} persons, {time.perf_counter() - started:.0f}s"
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("areas", "households", "persons", "register_officer_towns", "users"):
            conn.exec_driver_sql(f"VACUUM ANALYZE {table}")
    report.seconds = time.perf_counter() - started
    return report


@click.command("seed-register")
@click.option(
    "--measured", default="", help="Slug given the largest size (default: the middle district)."
)
@click.option("--national-districts", type=int, default=NATIONAL_DISTRICTS, show_default=True)
@click.option(
    "--persons", "national_persons", type=int, default=NATIONAL_PERSONS, show_default=True
)
def seed_register_command(measured: str, national_districts: int, national_persons: int) -> None:
    from flask import has_app_context

    from bench.seed import PREFIX, slug_for
    from portal import create_app
    from portal.extensions import db

    context = contextlib.nullcontext() if has_app_context() else create_app().app_context()
    with context:
        if not measured:
            count = db.session.execute(
                sa.text("SELECT count(*) FROM tenants WHERE slug LIKE :p"), {"p": f"{PREFIX}-%"}
            ).scalar_one()
            db.session.rollback()
            measured = slug_for(max(1, count // 2))
        report = seed_register(measured, national_districts, national_persons, click.echo)
    click.echo(
        f"register: {report.districts} districts, {report.households} households, "
        f"{report.persons} persons, {report.areas} areas in {report.seconds:.1f}s "
        f"(building rows incl. encryption {report.encrypt_seconds:.1f}s)"
    )


if __name__ == "__main__":
    seed_register_command()
