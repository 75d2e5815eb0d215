"""Reads of the care domain: the households behind each coverage figure, the contact
roster and a household's care records, scoped as `figures` says; the figures themselves
are there (re-exported here for the pages and the meeting documents).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from portal.care import rules
from portal.care.figures import HOLDERS, coverage, coverage_cached, household_sources  # noqa: F401
from portal.care.models import (
    Assignment,
    Checkup,
    Contact,
    DoctorContract,
    Visit,
    VisitKind,
    assigned_contact,
)
from portal.extensions import db
from portal.register.models import Area, Household, HouseholdStatus

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
    q = households_select(figure, as_of, area_id).limit(limit).offset(offset)
    return list(db.session.execute(q).unique().scalars())


def households_select(
    figure: str, as_of: dt.date | None = None, area_id: uuid.UUID | None = None
) -> sa.Select:
    """The statement behind `households_for`, by household number: the drill-down page
    and its Excel export read the same one."""
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
    return q.order_by(Household.number, Household.id)


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
    q = roster_select(town_id)
    return [(c, n) for c, n in db.session.execute(q).all()]


def roster_select(town_id: uuid.UUID | None = None) -> sa.Select:
    """The active contact persons and how many households each holds now, by town and
    name: the contact page and its Excel export read the same statement."""
    held = (
        sa.select(sa.func.count())
        .where(Assignment.contact_id == Contact.id, Assignment.ended_on.is_(None))
        .scalar_subquery()
    )
    q = sa.select(Contact, held).where(Contact.active.is_(True))
    if town_id is not None:
        q = q.where(Contact.town_id == town_id)
    return q.order_by(Contact.town_id, Contact.name, Contact.id)


def household_care(household_id: uuid.UUID) -> dict:
    """A household's contacts (current and past), contracts, check-ups and visits."""
    assignments = db.session.execute(
        sa.select(Assignment, Contact)
        .join(
            Contact,
            assigned_contact(),
        )
        .where(Assignment.household_id == household_id)
        .order_by(Assignment.ended_on.is_not(None), Assignment.started_on.desc())
    ).all()

    def rows(model: Any, *order: Any, limit: int | None = None) -> list:
        q = sa.select(model).where(model.household_id == household_id).order_by(*order)
        return list(db.session.execute(q.limit(limit)).scalars())

    contracts = rows(DoctorContract, DoctorContract.person_id)
    checkups = rows(Checkup, Checkup.done_on.desc())
    visits = rows(Visit, Visit.visited_on.desc(), limit=100)
    return {
        "assignments": assignments,
        "contracts": contracts,
        "checkups": checkups,
        "visits": visits,
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


def roster_count() -> int:
    """How many households the roster lists (the registered ones the user may see)."""
    return int(
        db.session.execute(
            sa.select(sa.func.count(Household.id)).where(
                Household.status == HouseholdStatus.registered
            )
        ).scalar_one()
    )


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
                assigned_contact(),
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


STATUS_FLAGS = ("contact_ok", "no_contact_quarter", "festival_overdue", "doctor_overdue")


def status_select(as_of: dt.date | None = None) -> sa.Select:
    """Registered households in scope with their care status (the dashboard's flags, one
    statement per page: contacts make up the policy's composition, no contact this
    quarter, a festival visit overdue, doctor contact overdue), in number order."""
    as_of = as_of or rules.today()
    src, named = household_sources(rules.current_policy(as_of), as_of)
    flags = dict(named)
    festival = [e for n, e in flags.items() if n.startswith("festival_overdue_")]
    columns = {
        "contact_ok": flags["contact_ok"],
        "no_contact_quarter": flags["no_contact_quarter"],
        "festival_overdue": sa.or_(*festival) if festival else sa.false(),
        "doctor_overdue": flags.get("doctor_overdue", sa.false()),
    }
    return (
        sa.select(Household, *(sa.func.coalesce(e, False).label(k) for k, e in columns.items()))
        .select_from(src)
        .where(Household.status == HouseholdStatus.registered)
        .order_by(Household.number)
    )
