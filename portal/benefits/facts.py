"""Facts for the engine: the confirmed register and the policy's standards, as plain values.

Only `Household` and `Person` rows count — they hold confirmed data only (a proposal is a
`ChangeRequest` until the eligibility department confirms it). Reads run inside the
tenant's scope (the central hook and RLS), in a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from operator import attrgetter
from typing import Any

import sqlalchemy as sa

from portal.benefits.engine import HouseholdFacts, PersonFacts, Rate, Standard
from portal.extensions import db


def _rates(values: list[dict] | list[Any]) -> tuple[Rate, ...]:
    out = []
    for v in values:
        get = v.get if isinstance(v, dict) else lambda k, v=v: getattr(v, k)
        start, before = get("effective_from"), get("in_force_before")
        out.append(
            Rate(
                amount=decimal.Decimal(str(get("amount"))).quantize(decimal.Decimal("0.01")),
                start=_d(start),
                end=_d(before),
                source=get("source") or "",
            )
        )
    return tuple(sorted(out, key=lambda r: r.start or dt.date.min))


def _d(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def standard_key(measure_number: str, name: str) -> str:
    """Stable across policy versions, so a rise in a new version settles the same lines."""
    return f"{measure_number}/{name}"


def standards_from_data(data: dict) -> list[Standard]:
    """Standards straight from a policy file's data (tests, `portal benefits check`)."""
    doc = (data.get("policy") or {}).get("doc_number") or ""
    out = []
    for m in data.get("measures") or []:
        for b in m.get("benefits") or []:
            out.append(
                Standard(
                    key=standard_key(str(m["number"]), b["name"]),
                    name=b["name"],
                    measure_number=str(m["number"]),
                    measure_title=m.get("title") or "",
                    unit=b["unit"],
                    frequency=b["frequency"],
                    rates=_rates(b.get("values") or []),
                    eligibility=dict(b.get("eligibility") or {}),
                    rule=dict(b.get("entitlement") or {}),
                    funding_split=tuple(
                        (s["level"], decimal.Decimal(str(s["share"])))
                        for s in b.get("funding_split") or []
                    ),
                    split_applies_to=b.get("funding_split_applies_to") or "whole",
                    doc_number=doc,
                    max_quantity=b.get("max_quantity"),
                    max_quantity_unit=b.get("max_quantity_unit"),
                )
            )
    return out


def standards_from_version(version: Any, measures: Any = None) -> list[Standard]:
    """Standards of a `PolicyVersion`: of `measures` (its measures with benefits and values
    loaded) or of `version.measures`."""
    out = []
    for m in version.measures if measures is None else measures:
        for b in m.benefits:
            out.append(
                Standard(
                    key=standard_key(m.number, b.name),
                    name=b.name,
                    measure_number=m.number,
                    measure_title=m.title,
                    unit=b.unit,
                    frequency=b.frequency,
                    rates=_rates(list(b.values)),
                    eligibility=dict(b.eligibility or {}),
                    rule=dict(b.entitlement or {}),
                    funding_split=tuple(
                        (s["level"], decimal.Decimal(str(s["share"])))
                        for s in b.funding_split or []
                    ),
                    split_applies_to=b.funding_split_applies_to or "whole",
                    doc_number=version.doc_number,
                    max_quantity=b.max_quantity,
                    max_quantity_unit=b.max_quantity_unit,
                )
            )
    return out


def policy_standards(month: dt.date) -> tuple[Any, list[Standard]]:
    """The version in force at the end of `month` (else the latest non-draft) and its
    standards. Dated values carry their own dates, so earlier months use the same version.
    Reads only what the engine needs — measures, benefits, values: three queries after the
    version's, not `load_version`'s five (it reads the version again and every measure's
    responsibilities; each statement counts 2,800 times in the national run)."""
    from sqlalchemy.orm import selectinload

    from portal.benefits.engine import month_end
    from portal.policy.models import BenefitStandard, Measure, PolicyVersion, VersionStatus
    from portal.policy.services import current_version

    version = current_version(month_end(month))
    if version is None:
        version = (
            db.session.execute(
                sa.select(PolicyVersion)
                .where(PolicyVersion.status != VersionStatus.draft)
                .order_by(PolicyVersion.effective_from.desc(), PolicyVersion.created_at.desc())
                .limit(1)
            )
            .scalars()
            .first()
        )
    if version is None:
        return None, []
    measures = (
        db.session.execute(
            sa.select(Measure)
            .where(Measure.version_id == version.id)
            .order_by(Measure.position)
            .options(selectinload(Measure.benefits).selectinload(BenefitStandard.values))
        )
        .scalars()
        .all()
    )
    return version, standards_from_version(version, measures)


def _text(column: Any) -> Any:
    """A column read as plain text: no enum or UUID object per value (30,000 rows for the
    largest district). Still an ORM-enabled column, so the tenancy criteria apply."""
    return sa.type_coerce(column, sa.String())


def id_text(column: Any) -> tuple[Any, Any]:
    """A UUID column as its canonical text ('0190…-…'), as `str(uuid)` gives: PostgreSQL
    casts in SQL; SQLite stores 32 hex digits, converted here. Returns the column and the
    conversion to apply to each value read (never called with None here)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.cast(column, sa.String()), str
    return _text(column), lambda v: str(uuid.UUID(v)) if v is not None else None


def register_facts(town_id: Any = None, household_id: Any = None) -> list[HouseholdFacts]:
    """Every confirmed household (in the caller's scope) with its members: two queries,
    read as plain values (no ORM object, enum or UUID object per row)."""
    from portal.register.models import Household, HouseholdStatus, Person

    hid, as_id = id_text(Household.id)
    town, _same = id_text(Household.town_id)
    hq = sa.select(
        hid,
        Household.number,
        town,
        _text(Household.category),
        Household.registered_on,
        Household.woman_birth_date,
        Household.level,
        _text(Household.status),
        Household.exit_date,
    )
    if town_id is not None:
        hq = hq.where(Household.town_id == town_id)
    if household_id is not None:
        hq = hq.where(Household.id == household_id)
    rows = db.session.execute(hq).all()
    phid, _same = id_text(Person.household_id)
    pid, _same = id_text(Person.id)
    pq = sa.select(
        phid,
        pid,
        _text(Person.relationship_),
        Person.birth_date,
        _text(Person.gender),
        Person.alive,
        Person.death_date,
        Person.disability_grade,
    )
    if town_id is not None:
        pq = pq.where(
            Person.household_id.in_(sa.select(Household.id).where(Household.town_id == town_id))
        )
    if household_id is not None:
        pq = pq.where(Person.household_id == household_id)
    members: dict[str, list[PersonFacts]] = {}
    for h, i, rel, born, gender, alive, died, grade in db.session.execute(pq):
        person = PersonFacts(as_id(i), rel, born, gender, bool(alive), died, grade or "")
        got = members.get(h)
        if got is None:
            members[h] = [person]
        else:
            got.append(person)
    exited = HouseholdStatus.exited.value
    by_id = attrgetter("id")
    out = []
    for h, number, town_, category, registered, woman, level, status, exit_date in rows:
        persons = members.get(h, [])
        if len(persons) > 1:
            persons.sort(key=by_id)
        out.append(
            HouseholdFacts(
                id=as_id(h),
                number=number,
                town_id=as_id(town_),
                category=category,
                registered_on=registered,
                woman_birth_date=woman,
                level=level or "",
                exited=status == exited,
                exited_on=exit_date,
                persons=tuple(persons),
            )
        )
    return out
