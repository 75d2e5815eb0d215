"""The coverage figures per village, town and district, pre-aggregated: `coverage()`
sums the households' and members' care status rows (`portal.care.status`, kept by every
care write in its own transaction) per village, two grouped statements joined live to
the register, which alone says who is eligible (status, category, village, ages).
`live_coverage()` computes the same from the care tables (any day; the tests' measure).

The statements are ORM selects on scoped models: the scoping hook narrows them (a town
officer's figures are their town's) and PostgreSQL's RLS applies.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields

import sqlalchemy as sa
from blinker import Namespace

from portal.care import rules
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
from portal.register.models import (
    Area,
    Household,
    HouseholdStatus,
    Person,
    Relationship,
)

HOLDERS = (Relationship.principal, Relationship.spouse)

# Sent before the status or village rows are read, with the district in scope (None:
# none) and `marked=True` when a mark was seen; `status.settle` brings the households a
# visit marked up to date. A signal because `status` is above this module (it builds on
# the figures' statements).
rows_read = Namespace().signal("care-rows-read")


@dataclass
class Figures:
    """Counts behind the coverage figures of one area (or the district)."""

    households: int = 0
    contact_ok: int = 0  # contacts make up the policy's composition
    persons: int = 0
    doctor_signed: int = 0
    festival_due: int = 0  # (household, festival) pairs due this year so far
    festival_done: int = 0
    checkup_due: int = 0  # persons
    checkup_done: int = 0
    festival_overdue: int = 0
    doctor_overdue: int = 0  # households whose last quarter had no doctor contact
    no_contact_quarter: int = 0  # households with no visit at all this quarter

    def add(self, other: Figures) -> None:
        # by name through the instance dicts: a view adds up every village of a district
        mine, theirs = self.__dict__, other.__dict__
        for name in FIGURE_COLUMNS:
            mine[name] += theirs[name]

    @property
    def overdue(self) -> int:
        return self.festival_overdue + self.doctor_overdue

    @staticmethod
    def rate(part: int, whole: int) -> float | None:
        return round(100.0 * part / whole, 1) if whole else None

    def rates(self) -> dict[str, float | None]:
        return {
            "contact": self.rate(self.contact_ok, self.households),
            "doctor": self.rate(self.doctor_signed, self.persons),
            "festival": self.rate(self.festival_done, self.festival_due),
            "checkup": self.rate(self.checkup_done, self.checkup_due),
        }

    def as_dict(self) -> dict:
        return {**asdict(self), "overdue": self.overdue, "rates": self.rates()}


@dataclass
class Coverage:
    """The figures of every village, each town and the district, as of a day."""

    as_of: dt.date
    policy: rules.CarePolicy
    district: Figures
    towns: dict[uuid.UUID, Figures]
    villages: dict[uuid.UUID, Figures]
    names: dict[uuid.UUID, str]
    town_of: dict[uuid.UUID, uuid.UUID]
    # visits and check-ups recorded in a period (the report draft's; `period_counts`)
    period_counts: dict[str, int] = field(default_factory=dict)


# Statements for named households of a district (`status.touch`: their part of the
# village figures, before and after a write), run on the connection outside the scoping
# hook: the district and the households are bound explicitly.
TENANT = sa.bindparam("care_tenant", type_=sa.Uuid())
HOUSEHOLDS = sa.bindparam("care_households", expanding=True, type_=sa.Uuid())


def _only(model: type, column: str, households: bool) -> list[sa.ColumnElement[bool]]:
    """The explicit district (and households) of a statement run outside the hook."""
    where = [model.tenant_id == TENANT]  # type: ignore[attr-defined]
    if households:
        where.append(getattr(model, column).in_(HOUSEHOLDS))
    return where


def _status_rows(model: type, column: str, only: str | None, name: str) -> sa.Subquery:
    """A status table's rows as a sub-select (an ORM select, so the scoping hook narrows
    it; with `only`, the bound district and households)."""
    q = sa.select(model)
    if only:
        q = q.where(*_only(model, column, only == "households"))
    return q.subquery(name)


def _festivals_open(
    policy: rules.CarePolicy, as_of: dt.date
) -> list[tuple[rules.FestivalRule, dt.date]]:
    """This year's festival visits whose due window (30 days before the day) has opened."""
    return [
        (r, day)
        for r, day in policy.festivals_in(as_of.year)
        if day - dt.timedelta(days=30) <= as_of
    ]


def const(value: bool | int | str | dt.date) -> sa.ColumnElement:
    """A constant written into the SQL text, not bound: the figure statements are built
    once per policy and day, so their constants never change, and every bound value
    costs at each execution (SQLAlchemy's processing, psycopg's placeholder conversion
    and adaptation, about 6 µs each; the figure-changing visit's statement had 127)."""
    if isinstance(value, bool):
        return sa.true() if value else sa.false()
    if isinstance(value, int):
        return sa.literal_column(str(int(value)), sa.Integer)
    if isinstance(value, dt.date):
        return sa.literal_column(f"'{value.isoformat()}'", sa.Date)
    return sa.literal_column("'" + str(value).replace("'", "''") + "'", sa.String)


ONE, ZERO = const(1), const(0)


def _flag(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    """1 when any row of the group meets `cond` (a per-household aggregate column)."""
    return sa.func.max(sa.case((cond, ONE), else_=ZERO))


def _yes(column: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """A left-joined aggregate flag is set (no row joined: not set)."""
    return sa.func.coalesce(column, ZERO) == ONE


def _count(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((cond, ONE), else_=ZERO)), ZERO)


def holds(column: sa.ColumnElement[str], key: str) -> sa.ColumnElement[bool]:
    """A status text column holds the token `key` (no row: not). `key` is matched as
    written (LIKE's wildcards in it escaped, as `contains(autoescape=True)` does)."""
    escaped = key.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return sa.func.coalesce(column.like(const(f"%{escaped}%"), escape="/"), const(False))


def _doctor_window(policy: rules.CarePolicy, as_of: dt.date) -> tuple[dt.date, dt.date] | None:
    """The period whose doctor contact is checked on `as_of` (none when not required)."""
    if policy.doctor_cadence == "quarterly":
        return rules.last_ended_quarter(as_of)
    if policy.doctor_cadence == "yearly":
        return dt.date(as_of.year - 1, 1, 1), dt.date(as_of.year - 1, 12, 31)
    return None


@dataclass
class _Facts:
    """Where a coverage statement reads the care facts of households and members: the
    households (or members) joined to them, and the facts as SQL on those columns."""

    src: sa.FromClause
    contacts: sa.ColumnElement  # open assignments of active contact persons
    has_role: Callable[[int, str], sa.ColumnElement[bool]]
    seen: sa.ColumnElement[bool]  # a visit from the quarter's first day to as_of
    festival_done: Callable[[str], sa.ColumnElement[bool]]  # this year's, by code
    doctor_done: sa.ColumnElement[bool] | None  # a doctor contact in the checked window
    first_signed: sa.ColumnElement | None  # the household's earliest contract
    latest: sa.ColumnElement | None = None  # pre-aggregated: the household's last visit


def _live_facts(policy: rules.CarePolicy, as_of: dt.date) -> _Facts:
    """The care tables themselves: one grouped, materialised sub-select per table
    (contacts, visits, contracts), each read once whatever the number of households."""
    q_start, _ = rules.quarter_of(as_of)
    open_festivals = _festivals_open(policy, as_of)
    doctor = _doctor_window(policy, as_of)
    contact = assigned_contact()
    ca = (
        sa.select(
            Assignment.household_id,
            sa.func.count().label("n"),
            *(
                _flag(Contact.role == r).label(f"role_{i}")
                for i, r in enumerate(policy.required_roles)
            ),
        )
        .join(Contact, contact)
        .where(Assignment.ended_on.is_(None), Contact.active.is_(True))
        .group_by(Assignment.household_id)
        .cte("ca")
        .prefix_with("MATERIALIZED")
    )
    codes = sorted({r.festival for r, _day in open_festivals})
    earliest = min(q_start, doctor[0]) if doctor else q_start
    seen = sa.or_(Visit.visited_on >= earliest, Visit.festival_year == as_of.year)
    va = (
        sa.select(
            Visit.household_id,
            _flag(sa.and_(Visit.visited_on >= q_start, Visit.visited_on <= as_of)).label("seen"),
            *(
                _flag(
                    sa.and_(
                        Visit.kind == VisitKind.festival,
                        Visit.festival == code,
                        Visit.festival_year == as_of.year,
                    )
                ).label(f"fest_{code}")
                for code in codes
            ),
            *(
                [
                    _flag(
                        sa.and_(
                            Visit.kind == VisitKind.doctor,
                            Visit.visited_on >= doctor[0],
                            Visit.visited_on <= doctor[1],
                        )
                    ).label("doctor")
                ]
                if doctor
                else []
            ),
        )
        .where(seen)
        .group_by(Visit.household_id)
        .cte("va")
        .prefix_with("MATERIALIZED")
    )
    src = sa.outerjoin(Household, ca, ca.c.household_id == Household.id).outerjoin(
        va, va.c.household_id == Household.id
    )
    first_signed = None
    if doctor:
        dc = (
            sa.select(
                DoctorContract.household_id,
                sa.func.min(DoctorContract.signed_on).label("first_signed"),
            )
            .where(DoctorContract.declined.is_(False))
            .group_by(DoctorContract.household_id)
            .cte("dc")
            .prefix_with("MATERIALIZED")
        )
        src = src.outerjoin(dc, dc.c.household_id == Household.id)
        first_signed = dc.c.first_signed
    return _Facts(
        src=src,
        contacts=ca.c.n,
        has_role=lambda i, _role: _yes(ca.c[f"role_{i}"]),
        seen=_yes(va.c.seen),
        festival_done=lambda code: _yes(va.c[f"fest_{code}"]),
        doctor_done=_yes(va.c.doctor) if doctor else None,
        first_signed=first_signed,
    )


def _status_facts(
    policy: rules.CarePolicy,
    as_of: dt.date,
    only: str | None = None,
    sides: tuple[sa.Subquery, sa.FromClause] | None = None,
) -> _Facts:
    """The households' care status rows (pre-aggregated, kept by `portal.care.status`): one row
    per household, its dates compared with the day's period boundaries. Exact while no
    visit is dated after `as_of` (`coverage` checks that in the same statement).
    `sides` (`around`): the status rows before and after an upsert, each household
    joined to both (a household without a row on a side counts with no care facts)."""
    q_start, _ = rules.quarter_of(as_of)
    doctor = _doctor_window(policy, as_of)
    if sides is None:
        st = _status_rows(HouseholdCareStatus, "id", only, "st")
        src = sa.outerjoin(
            Household, st, sa.and_(st.c.tenant_id == Household.tenant_id, st.c.id == Household.id)
        )
    else:
        st, side = sides
        src = sa.join(Household, side, sa.true()).outerjoin(
            st,
            sa.and_(
                st.c.side == side.c.side,
                st.c.tenant_id == Household.tenant_id,
                st.c.id == Household.id,
            ),
        )

    doctor_done = None
    if doctor:
        days = (doctor[1] - doctor[0]).days + 1
        quarters = sorted(
            {rules.quarter_key(doctor[0] + dt.timedelta(days=d)) for d in range(days)}
        )
        doctor_done = sa.or_(*(holds(st.c.doctor_quarters, rules.token(q)) for q in quarters))
    return _Facts(
        src=src,
        contacts=st.c.contacts,
        has_role=lambda _i, role: holds(st.c.contact_roles, rules.token(role)),
        seen=sa.func.coalesce(st.c.last_visit_on >= const(q_start), const(False)),
        festival_done=lambda code: holds(st.c.festivals, rules.token(code, as_of.year)),
        doctor_done=doctor_done,
        first_signed=st.c.first_signed_on if doctor else None,
        latest=st.c.last_visit_on,
    )


def household_sources(
    policy: rules.CarePolicy, as_of: dt.date, facts: _Facts | None = None, only: str | None = None
) -> tuple[sa.FromClause, list[tuple[str, sa.ColumnElement]]]:
    """Households joined to their care facts (live from the care tables unless `facts`
    says otherwise), and the per-household conditions behind the figures as (name,
    boolean SQL expression). Set-based: no per-household sub-plan. Eligibility (status,
    category, the holders' ages) is always the register's, read live."""
    open_festivals = _festivals_open(policy, as_of)
    facts = facts or _live_facts(policy, as_of)
    src = facts.src
    contact_ok: sa.ColumnElement[bool] = sa.func.coalesce(facts.contacts, ZERO) >= const(
        max(policy.contacts_min, 1)
    )
    for i, role in enumerate(policy.required_roles):
        contact_ok = sa.and_(contact_ok, facts.has_role(i, role))
    flags: list[tuple[str, sa.ColumnElement]] = [
        ("contact_ok", contact_ok),
        ("no_contact_quarter", ~facts.seen),
    ]
    if any(r.member_min_age is not None for r, _day in open_festivals):
        ho = (
            sa.select(Person.household_id, sa.func.min(Person.birth_date).label("oldest"))
            .where(
                Person.alive.is_(True),
                Person.relationship_.in_([const(r.value) for r in HOLDERS]),
                *(_only(Person, "household_id", only != "tenant") if only else ()),
            )
            .group_by(Person.household_id)
            .cte("ho")
            .prefix_with("MATERIALIZED")
        )
        src = src.outerjoin(ho, ho.c.household_id == Household.id)
    for i, (rule, day) in enumerate(open_festivals):
        cond: list[sa.ColumnElement[bool]] = []
        if rule.family_types:
            cond.append(Household.category.in_([const(t) for t in rule.family_types]))
        if rule.member_min_age is not None:
            cond.append(
                sa.func.coalesce(
                    ho.c.oldest <= const(rules.years_before(day, rule.member_min_age)),
                    const(False),
                )
            )
        due = sa.and_(sa.true(), *cond)
        done = facts.festival_done(rule.festival)
        flags.append((f"festival_due_{i}", due))
        flags.append((f"festival_done_{i}", sa.and_(due, done)))
        if day < as_of:
            flags.append((f"festival_overdue_{i}", sa.and_(due, ~done)))
    if facts.doctor_done is not None and facts.first_signed is not None:
        window_end = const(_doctor_window(policy, as_of)[1])
        signed = sa.func.coalesce(facts.first_signed <= window_end, const(False))
        flags.append(("doctor_overdue", sa.and_(signed, ~facts.doctor_done)))
    return src, flags


def _person_sources(
    policy: rules.CarePolicy, as_of: dt.date, pre_aggregated: bool, only: str | None = None
) -> tuple[sa.FromClause, list[tuple[str, sa.ColumnElement]], sa.ColumnElement | None]:
    """Living members of registered households joined to their contract and check-ups
    (one grouped sub-select each, or their status rows), the per-person conditions, and
    (pre-aggregated) the column of each member's last check-up."""
    members = sa.join(
        Person,
        Household,
        sa.and_(Household.tenant_id == Person.tenant_id, Household.id == Person.household_id),
    )
    if pre_aggregated:
        ps = _status_rows(PersonCareStatus, "household_id", only, "ps")
        src = members.outerjoin(
            ps, sa.and_(ps.c.tenant_id == Person.tenant_id, ps.c.id == Person.id)
        )
        signed = sa.func.coalesce(ps.c.signed, False)
        this_year = sa.func.coalesce(ps.c.last_checkup_on >= dt.date(as_of.year, 1, 1), False)
        ever = ps.c.last_checkup_on.is_not(None)
        last = ps.c.last_checkup_on
    else:
        dc = (
            sa.select(DoctorContract.person_id)
            .where(DoctorContract.declined.is_(False))
            .group_by(DoctorContract.person_id)
            .cte("pc")
            .prefix_with("MATERIALIZED")
        )
        ck = (
            sa.select(
                Checkup.person_id,
                _flag(Checkup.done_on >= dt.date(as_of.year, 1, 1)).label("this_year"),
            )
            .where(Checkup.done_on <= as_of)
            .group_by(Checkup.person_id)
            .cte("ck")
            .prefix_with("MATERIALIZED")
        )
        src = members.outerjoin(dc, dc.c.person_id == Person.id).outerjoin(
            ck, ck.c.person_id == Person.id
        )
        signed = dc.c.person_id.is_not(None)
        this_year = _yes(ck.c.this_year)
        ever = ck.c.person_id.is_not(None)
        last = None
    flags: list[tuple[str, sa.ColumnElement]] = [("doctor_signed", signed)]
    dues, dones = [], []
    for rule in policy.checkups:
        cond: list[sa.ColumnElement[bool]] = []
        if rule.holders_only:
            cond.append(Person.relationship_.in_([const(r.value) for r in HOLDERS]))
        if rule.member_min_age is not None:
            cond.append(Person.birth_date <= rules.years_before(as_of, rule.member_min_age))
        if rule.member_max_age is not None:
            cond.append(Person.birth_date > rules.years_before(as_of, rule.member_max_age + 1))
        due = sa.and_(sa.true(), *cond)
        # yearly: a check-up this calendar year; once: any check-up so far
        done = this_year if rule.cadence == "yearly" else ever
        dues.append(due)
        dones.append(sa.and_(due, done))
    if dues:
        flags.append(("checkup_due", sa.or_(*dues)))
        flags.append(("checkup_done", sa.or_(*dones)))
    return src, flags, last


def _per_village(
    total: str,
    src: sa.FromClause,
    flags: list[tuple[str, sa.ColumnElement]],
    latest: list[sa.ColumnElement],
    *where: sa.ColumnElement[bool],
) -> sa.Select:
    """One coverage statement: per village, the rows counted (as `total`), each flag's
    count, and (pre-aggregated) the latest date they hold; households and persons alike."""
    return (
        sa.select(
            Household.town_id,
            Household.village_id,
            sa.func.count().label(total),
            *(_count(expr).label(name) for name, expr in flags),
            *(c.label("latest") for c in latest),
        )
        .select_from(src)
        .where(*where)
        .group_by(Household.town_id, Household.village_id)
    )


_STATEMENTS: dict[tuple, tuple] = {}


def _statements(
    policy: rules.CarePolicy, as_of: dt.date, pre_aggregated: bool, only: str | None = None
) -> tuple:
    """The two coverage statements and their flags for a policy and a day, built once per
    process (building them costs more than running them on a district; the scoping
    hook adds the tenant's and user's criteria at execution, so they are shareable).
    Pre-aggregated, each also returns the latest visit / check-up date its rows hold
    (the figures are exact only when none is after `as_of`). `only`: "tenant" or
    "households" for the statements `status.touch` runs with `TENANT` (and `HOUSEHOLDS`)
    bound, outside the scoping hook."""
    try:
        key = (policy, as_of, pre_aggregated, only)
        hash(key)
    except TypeError:  # a policy value that cannot be hashed: build it every time
        key = None
    if key is not None and key in _STATEMENTS:
        return _STATEMENTS[key]
    registered = Household.status == const(HouseholdStatus.registered.value)
    facts = _status_facts(policy, as_of, only) if pre_aggregated else None
    hsrc, hflags = household_sources(policy, as_of, facts, only)
    outer = _only(Household, "id", only == "households") if only else []
    latest = [sa.func.max(facts.latest)] if facts is not None and facts.latest is not None else []
    households = _per_village("households", hsrc, hflags, latest, registered, *outer)
    psrc, pflags, plast = _person_sources(policy, as_of, pre_aggregated, only)
    platest = [sa.func.max(plast)] if plast is not None else []
    persons = _per_village(
        "persons", psrc, pflags, platest, registered, Person.alive.is_(True), *outer
    )
    built = (households, [n for n, _e in hflags], persons, [n for n, _e in pflags])
    if key is not None:
        if len(_STATEMENTS) > 256:  # a day's worth of policies; dates move on
            _STATEMENTS.clear()
        _STATEMENTS[key] = built
    return built


def around(
    policy: rules.CarePolicy, as_of: dt.date, upsert: sa.Insert
) -> tuple[sa.Select, list[str]]:
    """PostgreSQL, one statement for a care write's households: their status rows upserted
    (`upsert`: INSERT … ON CONFLICT DO UPDATE from the care tables, with `TENANT` and
    `HOUSEHOLDS` of `portal.care.status` bound) and their household figures per village
    before (side 0) and after (side 1). Every part of a statement reads the same snapshot,
    so the table read beside the upsert is the rows before it, and the upsert's RETURNING
    rows are the rows after it. Built once per policy and day, like `_statements`."""
    key = ("around", policy, as_of, upsert)
    try:
        found = _STATEMENTS.get(key)
    except TypeError:  # a policy value that cannot be hashed
        key, found = None, None
    if found is not None:
        return found
    table = HouseholdCareStatus.__table__
    up = upsert.returning(*table.c).cte("up")
    zero, one = sa.literal_column("0", sa.Integer), sa.literal_column("1", sa.Integer)
    before = sa.select(zero.label("side"), *table.c).where(*_only(HouseholdCareStatus, "id", True))
    after = sa.select(one.label("side"), *(up.c[c.name] for c in table.c))
    st = sa.union_all(before, after).subquery("st")
    # (not `sa.values`: a VALUES clause has no cache key, so the statement would be
    # compiled again on every write)
    side = sa.union_all(sa.select(zero.label("side")), sa.select(one.label("side"))).subquery(
        "sides"
    )
    facts = _status_facts(policy, as_of, "households", (st, side))
    hsrc, hflags = household_sources(policy, as_of, facts, "households")
    fig = (
        sa.select(
            side.c.side,
            Household.town_id,
            Household.village_id,
            sa.func.count().label("households"),
            *(_count(expr).label(name) for name, expr in hflags),
            sa.func.max(facts.latest).label("latest"),
        )
        .select_from(hsrc)
        .where(
            Household.status == const(HouseholdStatus.registered.value),
            *_only(Household, "id", True),
        )
        .group_by(side.c.side, Household.town_id, Household.village_id)
        .cte("fig")
    )
    # each village's row moved by after − before in the same statement, when it is the
    # day's and the policy's (`status._move` does the rest: a village without a row, rows
    # of another day); the rows say which villages it moved
    sums: dict[str, list[str]] = {}
    for name in ("households", *(n for n, _e in hflags)):
        sums.setdefault(figure_of(name), []).append(name)
    sign = sa.case((fig.c.side == one, one), else_=const(-1))
    delta = (
        sa.select(
            fig.c.village_id,
            *(
                sa.func.sum(sign * sum((fig.c[n] for n in names[1:]), fig.c[names[0]])).label(c)
                for c, names in sums.items()
            ),
        )
        .group_by(fig.c.village_id)
        .cte("delta")
    )
    vt = VillageCareFigures.__table__
    moved = (
        sa.update(vt)
        .values({c: vt.c[c] + delta.c[c] for c in sums})
        .where(
            vt.c.tenant_id == TENANT,
            vt.c.id == delta.c.village_id,
            vt.c.as_of == const(as_of),
            vt.c.policy_key == const(policy_key(policy)),
            sa.or_(*(delta.c[c] != ZERO for c in sums)),
        )
        .returning(vt.c.id)
        .cte("moved")
    )
    statement = sa.select(fig, fig.c.village_id.in_(sa.select(moved.c.id)).label("moved"))
    built = (statement, [n for n, _e in hflags])
    if key is not None:
        _STATEMENTS[key] = built
    return built


def village_figures_around(
    policy: rules.CarePolicy,
    as_of: dt.date,
    tenant_id: uuid.UUID,
    household_ids: Sequence[uuid.UUID],
    upsert: sa.Insert,
    params: dict,
) -> tuple[tuple | None, tuple | None, set[uuid.UUID]]:
    """`village_figures` of the listed households (household figures only) before and
    after their status rows are upserted, in one statement (`around`): the upsert runs
    with it, and so does the move of the villages' rows of today under this policy by
    the difference (returned: the villages moved). Each side None when a row of it holds
    a date after `as_of`."""
    statement, hnames = around(policy, as_of, upsert)
    bound = {
        **params,
        "care_tenant": tenant_id,
        "care_households": list(household_ids),
    }
    rows = db.session.connection().execute(statement, bound).all()
    moved = {r.village_id for r in rows if r.moved}
    out: list[tuple | None] = []
    for side in (0, 1):
        mine = [r for r in rows if r.side == side]
        if any(r.latest is not None and r.latest > as_of for r in mine):
            out.append(None)
        else:
            out.append(_villages(mine, hnames, [], []))
    return out[0], out[1], moved


def policy_key(policy: rules.CarePolicy) -> str:
    """A fingerprint of the policy's rules (the village figures are kept for one)."""
    values = tuple(getattr(policy, f.name) for f in fields(policy) if f.compare)
    return hashlib.sha256(repr(values).encode()).hexdigest()


def coverage(as_of: dt.date | None = None, policy: rules.CarePolicy | None = None) -> Coverage:
    """Every figure per village, town and district, pre-aggregated: today's are the sum
    of the district's village figure rows (one statement) while they are today's and
    under the current policy; otherwise two statements over the households' and
    members' care status rows joined live to the register. A day before a visit or
    check-up the rows hold (a meeting's earlier reference date) is answered live from
    the care tables (`live_coverage`)."""
    from portal.tenancy import scope

    today = rules.today()
    as_of = as_of or today
    policy = policy or rules.current_policy(as_of)
    if as_of == today:
        kept = village_rows(as_of, policy)
        if kept is not None:
            return kept
    rows_read.send(scope.current().tenant_id)
    rows, prow, hnames, pnames = _run(policy, as_of, pre_aggregated=True)
    if rows is None:
        return live_coverage(as_of, policy)
    return _collect(as_of, policy, rows, hnames, prow, pnames)


def village_rows(as_of: dt.date, policy: rules.CarePolicy) -> Coverage | None:
    """The figures from the village rows, or None when any is of another day or policy
    (or the district has none yet). The same statement says whether a household of the
    district is marked (`status.mark`): then the marks are settled first
    (`rows_read`) and the rows read again."""
    from portal.tenancy import scope

    tenant_id = scope.current().tenant_id
    marks = PendingHouseholdStatus.__table__
    marked = sa.exists(
        sa.select(marks.c.id).where(*([marks.c.tenant_id == tenant_id] if tenant_id else []))
    )
    statement = sa.select(VillageCareFigures, marked.label("marked"))
    found = db.session.execute(statement).all()
    if found and found[0].marked:
        rows_read.send(tenant_id, marked=True)
        # (the settle wrote the rows past the session: the first read's objects are stale)
        found = db.session.execute(statement.execution_options(populate_existing=True)).all()
    rows = [r[0] for r in found]
    key = policy_key(policy)
    if not rows or any(r.as_of != as_of or r.policy_key != key for r in rows):
        return None
    villages: dict[uuid.UUID, Figures] = {}
    town_of: dict[uuid.UUID, uuid.UUID] = {}
    for r in rows:
        if r.households:
            villages[r.id] = Figures(**{c: getattr(r, c) for c in FIGURE_COLUMNS})
            if r.town_id is not None:
                town_of[r.id] = r.town_id
    return _summed(as_of, policy, villages, town_of)


def _run(
    policy: rules.CarePolicy,
    as_of: dt.date,
    pre_aggregated: bool,
    only: str | None = None,
    params: dict | None = None,
    parts: tuple[bool, bool] = (True, True),
) -> tuple:
    """The two statements' rows (in the session, or with `only` on its connection with
    `params` bound; `parts`: run the households' / the members' statement, else no rows);
    pre-aggregated rows that hold a date after `as_of`: None."""
    households, hnames, persons, pnames = _statements(policy, as_of, pre_aggregated, only)
    run = db.session.connection().execute if only else db.session.execute
    rows = run(households, params or {}).all() if parts[0] else []
    prow = run(persons, params or {}).all() if parts[1] else []
    if pre_aggregated and any(r.latest is not None and r.latest > as_of for r in (*rows, *prow)):
        return None, None, hnames, pnames
    return rows, prow, hnames, pnames


def village_figures(
    policy: rules.CarePolicy,
    as_of: dt.date,
    tenant_id: uuid.UUID,
    household_ids: Sequence[uuid.UUID] | None = None,
    parts: tuple[bool, bool] = (True, True),
) -> tuple[dict[uuid.UUID, Figures], dict[uuid.UUID, uuid.UUID]] | None:
    """The figures per village of a district's registered households (or of the listed
    ones: their part of each village's figures) from the status rows, outside the
    scoping hook, with each village's town. None when a row holds a date after `as_of`.
    `parts`: the household figures / the member figures (the other left at zero)."""
    params: dict = {"care_tenant": tenant_id}
    if household_ids is not None:
        params["care_households"] = list(household_ids)
    only = "tenant" if household_ids is None else "households"
    rows, prow, hnames, pnames = _run(policy, as_of, True, only, params, parts)
    if rows is None:
        return None
    return _villages(rows, hnames, prow, pnames)


def live_coverage(as_of: dt.date | None = None, policy: rules.CarePolicy | None = None) -> Coverage:
    """The same figures computed from the care tables themselves (two statements, each
    care table read once): any day, and the measure the status rows are checked by."""
    as_of = as_of or rules.today()
    policy = policy or rules.current_policy(as_of)
    rows, prow, hnames, pnames = _run(policy, as_of, pre_aggregated=False)
    return _collect(as_of, policy, rows, hnames, prow, pnames)


def figure_of(name: str) -> str:
    """The figure a statement's column adds to (one column per festival rule:
    "festival_due_0" and "festival_due_1" both add to `festival_due`)."""
    return name.rsplit("_", 1)[0] if name[-1].isdigit() else name


def _villages(
    rows: Sequence[sa.Row], hnames: list[str], prow: Sequence[sa.Row], pnames: list[str]
) -> tuple[dict[uuid.UUID, Figures], dict[uuid.UUID, uuid.UUID]]:
    """Villages' figures (and towns) from the two statements' rows."""
    villages: dict[uuid.UUID, Figures] = {}
    town_of: dict[uuid.UUID, uuid.UUID] = {}
    # each count by its position in the row (a district's view reads a row per village)
    # (the households' rows name each village's town; a member's row only when no
    # household row did)
    for found, names, whole, figure, names_town in (
        (rows, hnames, "households", figure_of, True),
        (prow, pnames, "persons", lambda name: name, False),
    ):
        if not found:
            continue
        at = {name: i for i, name in enumerate(found[0]._fields)}
        adds = [(at[whole], whole)] + [(at[name], figure(name)) for name in names]
        for r in found:
            f = villages.get(r.village_id)
            if f is None:
                f = villages[r.village_id] = Figures()
            if names_town or r.village_id not in town_of:
                town_of[r.village_id] = r.town_id
            counts = f.__dict__
            for i, name in adds:
                counts[name] += int(r[i])
    return villages, town_of


def _collect(
    as_of: dt.date,
    policy: rules.CarePolicy,
    rows: Sequence[sa.Row],
    hnames: list[str],
    prow: Sequence[sa.Row],
    pnames: list[str],
) -> Coverage:
    """Villages' figures from the two statements' rows, summed into towns and district."""
    return _summed(as_of, policy, *_villages(rows, hnames, prow, pnames))


def _summed(
    as_of: dt.date,
    policy: rules.CarePolicy,
    villages: dict[uuid.UUID, Figures],
    town_of: dict[uuid.UUID, uuid.UUID],
) -> Coverage:
    towns: dict[uuid.UUID, Figures] = {}
    district = Figures()
    for vid, f in villages.items():
        if vid in town_of:
            town = towns.get(town_of[vid])
            if town is None:
                town = towns[town_of[vid]] = Figures()
            town.add(f)
        district.add(f)
    names = dict(db.session.execute(sa.select(Area.id, Area.name)).all())
    return Coverage(as_of, policy, district, towns, villages, names, town_of)


_COVERAGE: dict[tuple, Coverage] = {}


def coverage_cached(as_of: dt.date | None = None) -> Coverage:
    """`coverage()` kept in memory per scope, day and the district's audit-chain head.
    Every write of the district (care, register, policy) is audited and moves the head,
    so the figures are computed again after any change and served from memory until
    then: one primary-key read instead of the two grouped statements. Shared: callers
    must not change the object (the report draft uses `coverage()`)."""
    from portal.audit.models import AuditChainHead
    from portal.tenancy import scope

    as_of = as_of or rules.today()
    current = scope.current()
    if current.tenant_id is None:
        return coverage(as_of)
    head = db.session.execute(
        sa.select(AuditChainHead.seq).where(AuditChainHead.tenant_id == current.tenant_id)
    ).scalar()
    key = (current.tenant_id, current.user_id, current.role, current.department_id, as_of, head)
    found = _COVERAGE.get(key)
    if found is None:
        if len(_COVERAGE) > 512:  # old heads and days are never asked for again
            _COVERAGE.clear()
        found = _COVERAGE[key] = coverage(as_of)
    return found
