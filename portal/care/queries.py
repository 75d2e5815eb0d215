"""Reads of the care domain: coverage figures (set-based SQL per village, town and
district), the households behind each figure, the contact roster and a household's
care records.

Every statement is an ORM `select` on scoped models, so the one scoping hook narrows it
(a town officer's figures are their town's) and PostgreSQL's RLS applies. Two
statements give all figures, however many households: one over households, one over
persons; town and district figures are sums of the village rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict, dataclass, field, fields

import sqlalchemy as sa

from portal.care import rules
from portal.care.models import Assignment, Checkup, Contact, DoctorContract, Visit, VisitKind
from portal.extensions import db
from portal.register.models import (
    Area,
    Household,
    HouseholdStatus,
    Person,
    Relationship,
)

HOLDERS = (Relationship.principal, Relationship.spouse)


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
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

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


def _festivals_open(
    policy: rules.CarePolicy, as_of: dt.date
) -> list[tuple[rules.FestivalRule, dt.date]]:
    """This year's festival visits whose due window (30 days before the day) has opened."""
    return [
        (r, day)
        for r, day in policy.festivals_in(as_of.year)
        if day - dt.timedelta(days=30) <= as_of
    ]


def _flag(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    """1 when any row of the group meets `cond` (a per-household aggregate column)."""
    return sa.func.max(sa.case((cond, 1), else_=0))


def _yes(column: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """A left-joined aggregate flag is set (no row joined: not set)."""
    return sa.func.coalesce(column, 0) == 1


def _count(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)


def _doctor_window(policy: rules.CarePolicy, as_of: dt.date) -> tuple[dt.date, dt.date] | None:
    """The period whose doctor contact is checked on `as_of` (none when not required)."""
    if policy.doctor_cadence == "quarterly":
        return rules.last_ended_quarter(as_of)
    if policy.doctor_cadence == "yearly":
        return dt.date(as_of.year - 1, 1, 1), dt.date(as_of.year - 1, 12, 31)
    return None


def household_sources(
    policy: rules.CarePolicy, as_of: dt.date
) -> tuple[sa.FromClause, list[tuple[str, sa.ColumnElement]]]:
    """Households left-joined to one grouped sub-select per care table (contacts, visits,
    holders' ages, doctor contracts), and the per-household conditions behind the figures
    as (name, boolean SQL expression) on those columns. Set-based: each care table is
    read once, whatever the number of households (no per-household sub-plan)."""
    q_start, _ = rules.quarter_of(as_of)
    open_festivals = _festivals_open(policy, as_of)
    doctor = _doctor_window(policy, as_of)
    contact = sa.and_(
        Contact.tenant_id == Assignment.tenant_id, Contact.id == Assignment.contact_id
    )
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
    contact_ok: sa.ColumnElement[bool] = sa.func.coalesce(ca.c.n, 0) >= max(policy.contacts_min, 1)
    for i, _role in enumerate(policy.required_roles):
        contact_ok = sa.and_(contact_ok, _yes(ca.c[f"role_{i}"]))
    flags: list[tuple[str, sa.ColumnElement]] = [
        ("contact_ok", contact_ok),
        ("no_contact_quarter", ~_yes(va.c.seen)),
    ]
    if any(r.member_min_age is not None for r, _day in open_festivals):
        ho = (
            sa.select(Person.household_id, sa.func.min(Person.birth_date).label("oldest"))
            .where(Person.alive.is_(True), Person.relationship_.in_(HOLDERS))
            .group_by(Person.household_id)
            .cte("ho")
            .prefix_with("MATERIALIZED")
        )
        src = src.outerjoin(ho, ho.c.household_id == Household.id)
    for i, (rule, day) in enumerate(open_festivals):
        cond: list[sa.ColumnElement[bool]] = []
        if rule.family_types:
            cond.append(Household.category.in_(rule.family_types))
        if rule.member_min_age is not None:
            cond.append(
                sa.func.coalesce(ho.c.oldest <= rules.years_before(day, rule.member_min_age), False)
            )
        due = sa.and_(sa.true(), *cond)
        done = _yes(va.c[f"fest_{rule.festival}"])
        flags.append((f"festival_due_{i}", due))
        flags.append((f"festival_done_{i}", sa.and_(due, done)))
        if day < as_of:
            flags.append((f"festival_overdue_{i}", sa.and_(due, ~done)))
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
        signed = sa.func.coalesce(dc.c.first_signed <= doctor[1], False)
        flags.append(("doctor_overdue", sa.and_(signed, ~_yes(va.c.doctor))))
    return src, flags


def _person_sources(
    policy: rules.CarePolicy, as_of: dt.date
) -> tuple[sa.FromClause, list[tuple[str, sa.ColumnElement]]]:
    """Living members of registered households joined to their contract and check-ups
    (one grouped sub-select each), and the per-person conditions."""
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
    src = (
        sa.join(
            Person,
            Household,
            sa.and_(Household.tenant_id == Person.tenant_id, Household.id == Person.household_id),
        )
        .outerjoin(dc, dc.c.person_id == Person.id)
        .outerjoin(ck, ck.c.person_id == Person.id)
    )
    flags: list[tuple[str, sa.ColumnElement]] = [("doctor_signed", dc.c.person_id.is_not(None))]
    dues, dones = [], []
    for rule in policy.checkups:
        cond: list[sa.ColumnElement[bool]] = []
        if rule.holders_only:
            cond.append(Person.relationship_.in_(HOLDERS))
        if rule.member_min_age is not None:
            cond.append(Person.birth_date <= rules.years_before(as_of, rule.member_min_age))
        if rule.member_max_age is not None:
            cond.append(Person.birth_date > rules.years_before(as_of, rule.member_max_age + 1))
        due = sa.and_(sa.true(), *cond)
        # yearly: a check-up this calendar year; once: any check-up so far
        done = _yes(ck.c.this_year) if rule.cadence == "yearly" else ck.c.person_id.is_not(None)
        dues.append(due)
        dones.append(sa.and_(due, done))
    if dues:
        flags.append(("checkup_due", sa.or_(*dues)))
        flags.append(("checkup_done", sa.or_(*dones)))
    return src, flags


_STATEMENTS: dict[tuple, tuple] = {}


def _statements(policy: rules.CarePolicy, as_of: dt.date) -> tuple:
    """The two coverage statements and their flags for a policy and a day, built once per
    process (building them costs more than running them on a district; the scoping
    hook adds the tenant's and user's criteria at execution, so they are shareable)."""
    try:
        key = (policy, as_of)
        hash(key)
    except TypeError:  # a policy value that cannot be hashed: build it every time
        key = None
    if key is not None and key in _STATEMENTS:
        return _STATEMENTS[key]
    registered = Household.status == HouseholdStatus.registered
    hsrc, hflags = household_sources(policy, as_of)
    households = (
        sa.select(
            Household.town_id,
            Household.village_id,
            sa.func.count().label("households"),
            *(_count(expr).label(name) for name, expr in hflags),
        )
        .select_from(hsrc)
        .where(registered)
        .group_by(Household.town_id, Household.village_id)
    )
    psrc, pflags = _person_sources(policy, as_of)
    persons = (
        sa.select(
            Household.village_id,
            sa.func.count().label("persons"),
            *(_count(expr).label(name) for name, expr in pflags),
        )
        .select_from(psrc)
        .where(registered, Person.alive.is_(True))
        .group_by(Household.village_id)
    )
    built = (households, [n for n, _e in hflags], persons, [n for n, _e in pflags])
    if key is not None:
        if len(_STATEMENTS) > 256:  # a day's worth of policies; dates move on
            _STATEMENTS.clear()
        _STATEMENTS[key] = built
    return built


def coverage(as_of: dt.date | None = None, policy: rules.CarePolicy | None = None) -> Coverage:
    """Every figure per village, town and district (two statements, whatever the size)."""
    as_of = as_of or rules.today()
    policy = policy or rules.current_policy(as_of)
    households, hnames, persons, pnames = _statements(policy, as_of)
    rows = db.session.execute(households).all()
    prow = db.session.execute(persons).all()
    villages: dict[uuid.UUID, Figures] = {}
    town_of: dict[uuid.UUID, uuid.UUID] = {}
    for r in rows:
        m = r._mapping
        f = villages.setdefault(r.village_id, Figures())
        town_of[r.village_id] = r.town_id
        f.households += m["households"]
        for name in hnames:
            base = name.rsplit("_", 1)[0] if name[-1].isdigit() else name
            setattr(f, base, getattr(f, base) + int(m[name]))
    for r in prow:
        m = r._mapping
        f = villages.setdefault(r.village_id, Figures())
        f.persons += m["persons"]
        for name in pnames:
            setattr(f, name, getattr(f, name) + int(m[name]))
    towns: dict[uuid.UUID, Figures] = {}
    district = Figures()
    for vid, f in villages.items():
        if vid in town_of:
            towns.setdefault(town_of[vid], Figures()).add(f)
        district.add(f)
    names = dict(db.session.execute(sa.select(Area.id, Area.name)).all())
    return Coverage(as_of, policy, district, towns, villages, names, town_of)


FIGURE_FLAGS = {
    "contact_missing": "contact_ok",
    "no_contact_quarter": "no_contact_quarter",
    "festival_overdue": "festival_overdue",
    "doctor_overdue": "doctor_overdue",
}


def households_for(
    figure: str,
    as_of: dt.date | None = None,
    area_id: uuid.UUID | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Household]:
    """The households behind a figure (drill-down): short of contacts, no contact this
    quarter, a festival visit overdue, doctor contact overdue."""
    as_of = as_of or rules.today()
    policy = rules.current_policy(as_of)
    src, named = household_sources(policy, as_of)
    flags = dict(named)
    if figure == "contact_missing":
        cond = ~flags["contact_ok"]
    elif figure == "festival_overdue":
        parts = [e for n, e in flags.items() if n.startswith("festival_overdue_")]
        cond = sa.or_(*parts) if parts else sa.false()
    elif figure in FIGURE_FLAGS:
        cond = flags.get(figure, sa.false())  # e.g. doctor contact the policy never asks
    else:
        raise rules.CareError("unknown figure", field="figure")
    q = (
        sa.select(Household)
        .select_from(src)
        .where(Household.status == HouseholdStatus.registered, cond)
    )
    if area_id is not None:
        q = q.where(sa.or_(Household.town_id == area_id, Household.village_id == area_id))
    q = q.order_by(Household.number).limit(limit).offset(offset)
    return list(db.session.execute(q).unique().scalars())


def festival_due_households(rule: rules.FestivalRule, year: int) -> list[uuid.UUID]:
    """The ids of registered households a festival visit is due for in `year`."""
    rule.date(year)  # a year outside the festival table is refused here, never guessed
    policy = rules.CarePolicy(festival_rules=(rule,))
    src, flags = household_sources(policy, dt.date(year, 12, 31))
    due = next(e for n, e in flags if n.startswith("festival_due_"))
    q = (
        sa.select(Household.id)
        .select_from(src)
        .where(Household.status == HouseholdStatus.registered, due)
    )
    return list(db.session.execute(q).scalars())


def roster(town_id: uuid.UUID | None = None) -> list[tuple[Contact, int]]:
    """The contact persons (联系人名册) with the number of households each holds now."""
    held = (
        sa.select(sa.func.count())
        .where(Assignment.contact_id == Contact.id, Assignment.ended_on.is_(None))
        .scalar_subquery()
    )
    q = sa.select(Contact, held).where(Contact.active.is_(True))
    if town_id is not None:
        q = q.where(Contact.town_id == town_id)
    return [(c, n) for c, n in db.session.execute(q.order_by(Contact.town_id, Contact.name)).all()]


def household_care(household_id: uuid.UUID) -> dict:
    """A household's contacts (current and past), contracts, check-ups and visits."""
    assignments = db.session.execute(
        sa.select(Assignment, Contact)
        .join(
            Contact,
            sa.and_(Contact.tenant_id == Assignment.tenant_id, Contact.id == Assignment.contact_id),
        )
        .where(Assignment.household_id == household_id)
        .order_by(Assignment.ended_on.is_not(None), Assignment.started_on.desc())
    ).all()
    contracts = (
        db.session.execute(
            sa.select(DoctorContract).where(DoctorContract.household_id == household_id)
        )
        .scalars()
        .all()
    )
    checkups = (
        db.session.execute(
            sa.select(Checkup)
            .where(Checkup.household_id == household_id)
            .order_by(Checkup.done_on.desc())
        )
        .scalars()
        .all()
    )
    visits = (
        db.session.execute(
            sa.select(Visit)
            .where(Visit.household_id == household_id)
            .order_by(Visit.visited_on.desc())
            .limit(100)
        )
        .scalars()
        .all()
    )
    return {
        "assignments": assignments,
        "contracts": list(contracts),
        "checkups": list(checkups),
        "visits": list(visits),
    }


def period_counts(start: dt.date, end: dt.date) -> dict[str, int]:
    """Visits (and of them festival visits) and check-ups recorded from `start` to `end`
    of registered households (one statement)."""
    registered = sa.select(Household.id).where(Household.status == HouseholdStatus.registered)
    in_visits = sa.and_(
        Visit.visited_on >= start, Visit.visited_on <= end, Visit.household_id.in_(registered)
    )
    visits = sa.select(sa.func.count()).where(in_visits).select_from(Visit).scalar_subquery()
    festival = (
        sa.select(sa.func.count())
        .select_from(Visit)
        .where(in_visits, Visit.kind == VisitKind.festival)
        .scalar_subquery()
    )
    checkups = (
        sa.select(sa.func.count())
        .select_from(Checkup)
        .where(
            Checkup.done_on >= start,
            Checkup.done_on <= end,
            Checkup.household_id.in_(registered),
        )
        .scalar_subquery()
    )
    row = db.session.execute(sa.select(visits, festival, checkups)).one()
    return {"visits": row[0], "festival_visits": row[1], "checkups": row[2]}


def eligibility_department_id() -> uuid.UUID | None:
    """The district's eligibility department (卫健), which reports the care figures."""
    from portal.register.models import eligibility_department

    return db.session.execute(sa.select(eligibility_department())).scalar()


def area_name(area_id: uuid.UUID) -> str:
    return db.session.execute(sa.select(Area.name).where(Area.id == area_id)).scalar() or ""


@dataclass
class RosterRow:
    household: Household
    contacts: list[Contact]


def roster_rows(limit: int | None = None, offset: int = 0) -> list[RosterRow]:
    """The 联系人名册 as districts keep it: one row per household with its current contact
    persons (two statements)."""
    q = (
        sa.select(Household)
        .where(Household.status == HouseholdStatus.registered)
        .order_by(Household.town_id, Household.village_id, Household.number)
        .offset(offset)
    )
    if limit is not None:
        q = q.limit(limit)
    households = list(db.session.execute(q).unique().scalars())
    ids = [h.id for h in households]
    held: dict[uuid.UUID, list[Contact]] = {}
    if ids:
        for hid, contact in db.session.execute(
            sa.select(Assignment.household_id, Contact)
            .join(
                Contact,
                sa.and_(
                    Contact.tenant_id == Assignment.tenant_id, Contact.id == Assignment.contact_id
                ),
            )
            .where(
                Assignment.household_id.in_(ids),
                Assignment.ended_on.is_(None),
                Contact.active.is_(True),
            )
            .order_by(Contact.role, Contact.name)
        ).all():
            held.setdefault(hid, []).append(contact)
    return [RosterRow(h, held.get(h.id, [])) for h in households]


def my_households() -> list[Household]:
    """The households in the user's scope (a village contact: those assigned to them)."""
    return list(
        db.session.execute(
            sa.select(Household)
            .where(Household.status == HouseholdStatus.registered)
            .order_by(Household.number)
            .limit(500)
        )
        .unique()
        .scalars()
    )


def nearest_festival(day: dt.date) -> str:
    """The festival a visit form suggests: the next within 30 days, else the last past."""
    from portal.care import festivals

    best, best_gap = "", None
    for code in ("spring_festival", "mid_autumn", "double_ninth"):
        for year in (day.year, day.year + 1):
            try:
                when = festivals.festival_date(code, year)
            except rules.CareError:
                continue
            except Exception:  # noqa: BLE001 - a year outside the table
                continue
            gap = abs((when - day).days)
            if best_gap is None or gap < best_gap:
                best, best_gap = code, gap
    return best


def household_due(h: Household, as_of: dt.date | None = None) -> list[dict]:
    """This year's festival visits due for the household, each done, due or overdue."""
    as_of = as_of or rules.today()
    policy = rules.current_policy(as_of)
    births = [p.birth_date for p in h.persons if p.alive and p.relationship_ in HOLDERS]
    done = set(
        db.session.execute(
            sa.select(Visit.festival).where(
                Visit.household_id == h.id,
                Visit.kind == VisitKind.festival,
                Visit.festival_year == as_of.year,
            )
        ).scalars()
    )
    out = []
    for rule, day in policy.festivals_in(as_of.year):
        oldest = max((rules.age(b, day) for b in births), default=None)
        if not rule.applies(h.category, oldest):
            continue
        state = "done" if rule.festival in done else ("overdue" if day < as_of else "due")
        out.append({"festival": rule.festival, "date": day, "state": state})
    return out
