"""The care status rows behind the pre-aggregated coverage figures: one per household
(`HouseholdCareStatus`) and one per member (`PersonCareStatus`), holding the care facts
as dates and keys (the last visit, the festivals greeted as "code:year", the quarters
with a doctor contact, the earliest contract, the last check-up), never as flags.

`refresh()` recomputes them set-based from the care tables: for the households a care
write touched (the operations call it in the same transaction, no commit here), or for
a whole district (the demo, the CLI repair command `portal care repair-status`, the
migration's backfill). Recomputing from the source rows rather than adjusting counts
keeps the rows equal to what the live figures read, whatever the write was.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from portal.care import figures, rules
from portal.care.figures import const
from portal.care.models import (
    FIGURE_COLUMNS,
    Assignment,
    Checkup,
    Contact,
    DoctorContract,
    HouseholdCareStatus,
    PendingHouseholdStatus,
    PersonCareStatus,
    VillageCareFigures,
    Visit,
    VisitKind,
    assigned_contact,
)
from portal.extensions import db
from portal.register.models import Household, Person

# constants in the SQL text, not bound (`figures.const`)
BAR, COLON, EMPTY = const("|"), const(":"), const("")


def _sql_token(*parts: sa.ColumnElement) -> sa.ColumnElement[str]:
    out: sa.ColumnElement[str] = BAR
    for i, part in enumerate(parts):
        if i:
            out = out + COLON
        out = out + sa.cast(part, sa.String)
    return out + BAR


def _sql_quarter_key(day: sa.ColumnElement) -> sa.ColumnElement[int]:
    year = sa.cast(sa.extract("year", day), sa.Integer)
    month = sa.cast(sa.extract("month", day), sa.Integer)
    return year * const(10) + (month + const(2)) // const(3)


def _strings(expr: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """The tokens of a group run together (NULLs skipped; none: empty)."""
    return sa.func.coalesce(sa.func.aggregate_strings(expr, ""), EMPTY)


UPSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}

# The district and the households a statement is for, bound at execution: the
# statements are built once per shape (building them cost more than running them).
TENANT = sa.bindparam("status_tenant", type_=sa.Uuid())
HOUSEHOLDS = sa.bindparam("status_households", expanding=True, type_=sa.Uuid())


def _visit_tokens(kind: VisitKind, *parts: sa.ColumnElement) -> sa.ColumnElement[str]:
    """The tokens of a household's visits of one kind (festival: "code:year"; doctor
    contact: its quarter), run together."""
    return _strings(sa.case((Visit.kind == const(kind.value), _sql_token(*parts))))


def _narrow(model: type, tenant: bool, listed: bool, column: str = "household_id") -> list:
    where = []
    if tenant:
        where.append(model.tenant_id == TENANT)  # type: ignore[attr-defined]
    if listed:
        where.append(getattr(model, column).in_(HOUSEHOLDS))
    return where


def _per_household(
    model: type,
    name: str,
    *columns: sa.ColumnElement,
    tenant: bool,
    listed: bool,
    join: tuple[type, sa.ColumnElement[bool]] | None = None,
    where: tuple[sa.ColumnElement[bool], ...] = (),
) -> sa.Subquery:
    """A care table grouped once: a row per household with `columns` aggregated over
    its rows (`where`, then the district and households as `_narrow` says)."""
    query = sa.select(model.tenant_id, model.household_id, *columns)  # type: ignore[attr-defined]
    if join is not None:
        query = query.join(*join)
    return (
        query.where(*where, *_narrow(model, tenant, listed))
        .group_by(model.tenant_id, model.household_id)  # type: ignore[attr-defined]
        .subquery(name)
    )


def household_rows(tenant: bool, listed: bool) -> sa.Select:
    """The status rows of the households (of a district, or the listed ones): each care
    table grouped once, left-joined to the households."""
    grouped = functools.partial(_per_household, tenant=tenant, listed=listed)
    ca = grouped(
        Assignment,
        "ca",
        sa.func.count().label("n"),
        _strings(_sql_token(Contact.role)).label("roles"),
        join=(Contact, assigned_contact()),
        where=(Assignment.ended_on.is_(None), Contact.active.is_(True)),
    )
    va = grouped(
        Visit,
        "va",
        sa.func.max(Visit.visited_on).label("last_on"),
        _visit_tokens(VisitKind.festival, Visit.festival, Visit.festival_year).label("festivals"),
        _visit_tokens(VisitKind.doctor, _sql_quarter_key(Visit.visited_on)).label("doctor"),
    )
    dc = grouped(
        DoctorContract,
        "dc",
        sa.func.min(DoctorContract.signed_on).label("first_signed"),
        where=(DoctorContract.declined.is_(False),),
    )

    def joined(sub: sa.Subquery) -> sa.ColumnElement[bool]:
        return sa.and_(sub.c.tenant_id == Household.tenant_id, sub.c.household_id == Household.id)

    where = _narrow(Household, tenant, listed, "id")
    return (
        sa.select(
            Household.tenant_id,
            Household.id,
            Household.id.label("household_id"),
            sa.func.coalesce(ca.c.n, const(0)),
            sa.func.coalesce(ca.c.roles, EMPTY),
            va.c.last_on,
            sa.func.coalesce(va.c.festivals, EMPTY),
            sa.func.coalesce(va.c.doctor, EMPTY),
            dc.c.first_signed,
            sa.func.now(),
        )
        .select_from(Household)
        .outerjoin(ca, joined(ca))
        .outerjoin(va, joined(va))
        .outerjoin(dc, joined(dc))
        .where(*where)
    )


HOUSEHOLD_COLUMNS = (
    "tenant_id",
    "id",
    "household_id",
    "contacts",
    "contact_roles",
    "last_visit_on",
    "festivals",
    "doctor_quarters",
    "first_signed_on",
    "created_at",
)
PERSON_COLUMNS = ("tenant_id", "id", "household_id", "signed", "last_checkup_on", "created_at")


def person_rows(tenant: bool, listed: bool) -> sa.Select:
    """The status rows of the members (of a district, or of the listed households): a
    contract not declined, the last check-up (by person, wherever recorded)."""
    members = sa.select(Person.id).where(*_narrow(Person, tenant, listed))
    pc = (
        sa.select(DoctorContract.tenant_id, DoctorContract.person_id)
        .where(DoctorContract.declined.is_(False), DoctorContract.person_id.in_(members))
        .group_by(DoctorContract.tenant_id, DoctorContract.person_id)
        .subquery("pc")
    )
    ck = (
        sa.select(
            Checkup.tenant_id, Checkup.person_id, sa.func.max(Checkup.done_on).label("last_on")
        )
        .where(Checkup.person_id.in_(members))
        .group_by(Checkup.tenant_id, Checkup.person_id)
        .subquery("ck")
    )
    return (
        sa.select(
            Person.tenant_id,
            Person.id,
            Person.household_id,
            pc.c.person_id.is_not(None),
            ck.c.last_on,
            sa.func.now(),
        )
        .select_from(Person)
        .outerjoin(pc, sa.and_(pc.c.tenant_id == Person.tenant_id, pc.c.person_id == Person.id))
        .outerjoin(ck, sa.and_(ck.c.tenant_id == Person.tenant_id, ck.c.person_id == Person.id))
        .where(*_narrow(Person, tenant, listed))
    )


def statements(
    tenant_id: uuid.UUID | None,
    household_ids: list[uuid.UUID] | None = None,
    *,
    households: bool = True,
    persons: bool = True,
    dialect: str | None = None,
) -> list[tuple[sa.Executable, dict]]:
    """Delete and rewrite the status rows (of a district, of the listed households, or
    of every district when both are None), with the values to bind: two statements per
    table, whatever the number of rows. `households` / `persons`: which tables."""
    params: dict = {}
    if tenant_id is not None:
        params["status_tenant"] = tenant_id
    if household_ids is not None:
        params["status_households"] = list(household_ids)
    dialect = db.session.get_bind().dialect.name if dialect is None else dialect
    listed = household_ids is not None
    built = _built(tenant_id is not None, listed, households, persons, dialect)
    return [(statement, params) for statement in built]


@functools.cache
def _built(tenant: bool, listed: bool, households: bool, persons: bool, dialect: str) -> tuple:
    parts = []
    if households:
        parts.append(
            (HouseholdCareStatus.__table__, household_rows(tenant, listed), HOUSEHOLD_COLUMNS)
        )
    if persons:
        parts.append((PersonCareStatus.__table__, person_rows(tenant, listed), PERSON_COLUMNS))
    out: list[sa.Executable] = []
    for table, rows, columns in parts:
        if listed and table is HouseholdCareStatus.__table__ and dialect in UPSERT:
            # one statement: the household's row is keyed by its id (a visit's write)
            insert = UPSERT[dialect](table).from_select(list(columns), rows)
            changed = {c: insert.excluded[c] for c in columns if c not in ("tenant_id", "id")}
            out.append(
                insert.on_conflict_do_update(index_elements=["tenant_id", "id"], set_=changed)
            )
            continue
        delete = sa.delete(table)
        if tenant:
            delete = delete.where(table.c.tenant_id == TENANT)
        if listed:
            if table is HouseholdCareStatus.__table__:
                mine = table.c.id.in_(HOUSEHOLDS)  # the household's own id: its key
            else:  # the members' rows, and those of members who moved here since
                moved = sa.select(Person.id).where(*_narrow(Person, tenant, listed))
                mine = sa.or_(table.c.household_id.in_(HOUSEHOLDS), table.c.id.in_(moved))
            delete = delete.where(mine)
        out += [delete, sa.insert(table).from_select(list(columns), rows)]
    return tuple(out)


def refresh(
    tenant_id: uuid.UUID,
    household_ids: Iterable[uuid.UUID] | None = None,
    *,
    households: bool = True,
    persons: bool = True,
) -> tuple[int, int]:
    """Recompute the status rows of the households a care write touched (in the caller's
    transaction; never commits), or of the whole district with no `household_ids` (its
    marks, `mark`, are then dropped: every row is up to date). Returns how many
    household and member rows were written."""
    ids = None if household_ids is None else sorted(set(household_ids))
    if ids == []:
        return 0, 0
    conn = db.session.connection()
    if ids is None and households:
        marks = PendingHouseholdStatus.__table__
        conn.execute(sa.delete(marks).where(marks.c.tenant_id == tenant_id))
    written = [0, 0]
    for statement, params in statements(tenant_id, ids, households=households, persons=persons):
        count = conn.execute(statement, params).rowcount
        if not isinstance(statement, sa.Delete):
            written[0 if statement.table is HouseholdCareStatus.__table__ else 1] += count
    return written[0], written[1]


def rebuild(tenant_id: uuid.UUID) -> int:
    """The district's village figure rows for today and its current policy, from the
    status rows (two grouped statements); none when a status row holds a later date
    (the dashboard then computes the figures itself). Returns the rows written."""
    as_of = rules.today()
    policy = rules.current_policy(as_of)
    conn = db.session.connection()
    table = VillageCareFigures.__table__
    forget(tenant_id)
    found = figures.village_figures(policy, as_of, tenant_id)
    if found is None:
        return 0
    villages, town_of = found
    key = figures.policy_key(policy)
    rows = [
        {
            "tenant_id": tenant_id,
            "id": vid,
            "town_id": town_of.get(vid),
            "as_of": as_of,
            "policy_key": key,
            **{c: getattr(f, c) for c in FIGURE_COLUMNS},
        }
        for vid, f in villages.items()
    ]
    if rows:
        conn.execute(sa.insert(table), rows)
    return len(rows)


def _kept(tenant_id: uuid.UUID, as_of: dt.date, key: str) -> bool:
    """Are the district's village rows today's and the current policy's (all of them)?"""
    table = VillageCareFigures.__table__
    n, ok = (
        db.session.connection()
        .execute(
            sa.select(
                sa.func.count(),
                sa.func.coalesce(
                    sa.func.sum(
                        sa.case(
                            (sa.and_(table.c.as_of == as_of, table.c.policy_key == key), 1),
                            else_=0,
                        )
                    ),
                    0,
                ),
            ).where(table.c.tenant_id == tenant_id)
        )
        .one()
    )
    return n > 0 and n == ok


def touch(
    tenant_id: uuid.UUID,
    household_ids: Iterable[uuid.UUID],
    *,
    households: bool = True,
    persons: bool = True,
    before: tuple | None = None,
) -> None:
    """After a write to these households (care rows or the register's): their status
    rows recomputed (`households` / `persons`: which of the two changed; both False: a
    register change), and the village figures moved by the difference of the
    households' figures before and after. Rows of another day or policy (or none yet):
    the district's are rebuilt instead. `before`: the households' figures taken before
    a register change was flushed (`figures_of`).

    A care write changes only its side's figures (a visit: the household figures; a
    check-up: the members'), so only that statement runs before and after. A write of
    the household side (a visit, an assignment) on PostgreSQL is one statement
    (`figures.around`: the status row upsert, the figures before and after, the village
    rows moved); elsewhere, and on SQLite, the status rows' statements, the figures
    before and after, and one update per village moved."""
    ids = sorted(set(household_ids))
    if not ids:
        return
    as_of = rules.today()
    policy = rules.current_policy(as_of)
    parts = (households, persons) if households or persons else (True, True)
    upsert = _upsert(tenant_id, ids) if before is None and parts == (True, False) else None
    done: set[uuid.UUID] = set()
    if upsert is not None:
        # PostgreSQL: the upsert, the figures around it and the villages' rows moved by
        # their difference, one statement
        before, after, done = figures.village_figures_around(policy, as_of, tenant_id, ids, *upsert)
    else:
        if before is None:
            before = figures.village_figures(policy, as_of, tenant_id, ids, parts)
        if households or persons:
            refresh(tenant_id, ids, households=households, persons=persons)
        after = figures.village_figures(policy, as_of, tenant_id, ids, parts)
    if before is None or after is None:  # a date after today: the dashboard computes
        forget(tenant_id)
        return
    key = figures.policy_key(policy)
    moved = _move(tenant_id, as_of, key, before, after, done)
    if moved is None or (moved == 0 and not _kept(tenant_id, as_of, key)):
        rebuild(tenant_id)  # another day or policy: the first write rebuilds the rows


def _upsert(tenant_id: uuid.UUID, ids: list[uuid.UUID]) -> tuple[sa.Insert, dict] | None:
    """The households' status row upsert with its values, where it can run inside the
    figures' statement (PostgreSQL: INSERT … ON CONFLICT … RETURNING in a CTE; SQLite
    has no data-modifying CTE and runs the three statements)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    (statement, params), *rest = statements(tenant_id, ids, persons=False, dialect="postgresql")
    return (statement, params) if not rest and isinstance(statement, sa.Insert) else None


def figures_of(tenant_id: uuid.UUID, household_ids: Iterable[uuid.UUID]) -> tuple | None:
    """The households' part of today's village figures (before a register change)."""
    as_of = rules.today()
    ids = sorted(set(household_ids))
    return figures.village_figures(rules.current_policy(as_of), as_of, tenant_id, ids)


def _move(
    tenant_id: uuid.UUID,
    as_of: dt.date,
    key: str,
    before: tuple,
    after: tuple,
    done: set[uuid.UUID] = frozenset(),  # type: ignore[assignment]
) -> int | None:
    """Add after − before to each village's row, if the row is today's under this policy.
    Returns how many rows moved; None when the district's rows need rebuilding (another
    day or policy, or none). `done`: villages whose rows were moved already (`around`)."""
    moved = 0
    (old, _), (new, town_of) = before, after
    table = VillageCareFigures.__table__
    conn = db.session.connection()
    for vid in sorted(set(old) | set(new), key=str):
        a, b = old.get(vid), new.get(vid)
        delta = {
            c: (getattr(b, c) if b else 0) - (getattr(a, c) if a else 0) for c in FIGURE_COLUMNS
        }
        if not any(delta.values()):
            continue
        if vid in done:
            moved += 1
            continue
        updated = conn.execute(
            sa.update(table)
            .where(
                table.c.tenant_id == tenant_id,
                table.c.id == vid,
                table.c.as_of == as_of,
                table.c.policy_key == key,
            )
            .values({c: table.c[c] + d for c, d in delta.items() if d})
        ).rowcount
        moved += 1
        if updated:
            continue
        if not _kept(tenant_id, as_of, key):
            return None
        # a village the district's rows did not have yet (its first household)
        conn.execute(
            sa.insert(table).values(
                tenant_id=tenant_id,
                id=vid,
                town_id=town_of.get(vid),
                as_of=as_of,
                policy_key=key,
                **delta,
            )
        )
    return moved


def forget(tenant_id: uuid.UUID) -> None:
    """Drop the district's village rows: the figures are computed from the status rows
    until a care write rebuilds them."""
    table = VillageCareFigures.__table__
    db.session.connection().execute(sa.delete(table).where(table.c.tenant_id == tenant_id))


def touch_for(*rows: object, households: bool = True, persons: bool = True) -> None:
    """`touch` for the households of some care rows (flushed, so they have ids; or any
    rows with `tenant_id` and `household_id`, such as the marks `settle` takes): a visit
    or an assignment changes its household's status row, a check-up its members'."""
    by_tenant: dict[uuid.UUID, set[uuid.UUID]] = {}
    for row in rows:
        by_tenant.setdefault(row.tenant_id, set()).add(row.household_id)  # type: ignore[attr-defined]
    for tenant_id, ids in by_tenant.items():
        touch(tenant_id, ids, households=households, persons=persons)


def last_visit_on(tenant_id: uuid.UUID, household_id: uuid.UUID) -> sa.ScalarSelect:
    """The household's last visit as its status row holds it (a scalar sub-select, so the
    visit's write reads it in the statement it needs anyway; `visit_recorded`)."""
    table = HouseholdCareStatus.__table__
    return (
        sa.select(table.c.last_visit_on)
        .where(table.c.tenant_id == tenant_id, table.c.id == household_id)
        .scalar_subquery()
    )


def visit_recorded(visit: Visit, last: dt.date | None) -> None:
    """A new visit's status, in one statement at most. A visit that is not a festival or
    doctor contact, to a household already visited this quarter, changes only the last
    visit's date (no figure reads more of it than "since the quarter began"), so that
    date is all that is written. Any other visit can move a figure: it marks the
    household (`mark`), and the next reader of the pre-aggregated figures settles it
    (`settle`) — together with every other household marked since, in one pass, instead
    of the policy's read and the figures' statement on each visit. `last`: the
    household's last visit as its status row held it before this one (`last_visit_on`)."""
    table = HouseholdCareStatus.__table__
    conn = db.session.connection()
    if visit.kind not in (VisitKind.festival, VisitKind.doctor):
        today = rules.today()
        if last is not None and rules.quarter_of(today)[0] <= last <= today:
            if visit.visited_on > last:
                conn.execute(
                    sa.update(table)
                    .where(table.c.tenant_id == visit.tenant_id, table.c.id == visit.household_id)
                    .values(last_visit_on=visit.visited_on)
                )
            return
    mark(visit.tenant_id, visit.household_id)


def mark(tenant_id: uuid.UUID, household_id: uuid.UUID) -> None:
    """The household's status row (and its village's figures) are behind: one insert,
    nothing if it is marked already."""
    table = PendingHouseholdStatus.__table__
    db.session.connection().execute(
        UPSERT[db.session.get_bind().dialect.name](table)
        .values(
            tenant_id=tenant_id,
            id=household_id,
            household_id=household_id,
            created_at=sa.func.now(),
        )
        .on_conflict_do_nothing(index_elements=[table.c.tenant_id, table.c.id])
    )


def settle(tenant_id: uuid.UUID | None, marked: bool = False) -> int:
    """Bring the marked households of the district (None: of every district the session
    may write) up to date — their status rows and their villages' figures, as `touch`
    does for a write — and drop their marks. The figures' readers call it first
    (`figures.rows_read`). Unless the caller has seen a mark (`marked`), one read first
    when nothing is marked (a read, so an idle dashboard takes no write lock); the marks
    are taken by a delete that returns them, so two readers at once settle each
    household once. Returns the households settled."""
    table = PendingHouseholdStatus.__table__
    conn = db.session.connection()
    mine = [] if tenant_id is None else [table.c.tenant_id == tenant_id]
    if not marked and conn.execute(sa.select(table.c.id).where(*mine).limit(1)).first() is None:
        return 0
    taken = conn.execute(
        sa.delete(table).where(*mine).returning(table.c.tenant_id, table.c.household_id)
    ).all()
    touch_for(*taken, persons=False)
    return len(taken)


@figures.rows_read.connect
def _settle_before_read(tenant_id: uuid.UUID | None, marked: bool = False, **_kw: object) -> None:
    settle(tenant_id, marked)
