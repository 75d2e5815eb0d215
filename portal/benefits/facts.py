"""Facts for the engine: the confirmed register and the policy's standards, as plain values.

Only `Household` and `Person` rows count — they hold confirmed data only (a proposal is a
`ChangeRequest` until the eligibility department confirms it). Reads run inside the
tenant's scope (the central hook and RLS), in a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
import decimal
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


def standards_from_version(version: Any) -> list[Standard]:
    """Standards of a loaded `PolicyVersion` (measures, benefits and values loaded)."""
    out = []
    for m in version.measures:
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
    standards. Dated values carry their own dates, so earlier months use the same version."""
    from portal.benefits.engine import month_end
    from portal.policy.models import PolicyVersion, VersionStatus
    from portal.policy.services import current_version, load_version

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
    loaded = load_version(version.id)
    return loaded, standards_from_version(loaded)


def register_facts(town_id: Any = None, household_id: Any = None) -> list[HouseholdFacts]:
    """Every confirmed household (in the caller's scope) with its members: two queries."""
    from portal.register.models import Household, HouseholdStatus, Person

    hq = sa.select(
        Household.id,
        Household.number,
        Household.town_id,
        Household.category,
        Household.registered_on,
        Household.woman_birth_date,
        Household.level,
        Household.status,
        Household.exit_date,
    )
    if town_id is not None:
        hq = hq.where(Household.town_id == town_id)
    if household_id is not None:
        hq = hq.where(Household.id == household_id)
    rows = db.session.execute(hq).all()
    pq = sa.select(
        Person.household_id,
        Person.id,
        Person.relationship_,
        Person.birth_date,
        Person.gender,
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
    members: dict[Any, list[PersonFacts]] = {}
    for r in db.session.execute(pq):
        members.setdefault(r[0], []).append(
            PersonFacts(
                id=str(r[1]),
                relationship=str(getattr(r[2], "value", r[2])),
                birth_date=r[3],
                gender=str(getattr(r[4], "value", r[4])),
                alive=bool(r[5]),
                death_date=r[6],
                disability_grade=r[7] or "",
            )
        )
    out = []
    for r in rows:
        status = str(getattr(r.status, "value", r.status))
        out.append(
            HouseholdFacts(
                id=str(r.id),
                number=r.number,
                town_id=str(r.town_id),
                category=str(getattr(r.category, "value", r.category)),
                registered_on=r.registered_on,
                woman_birth_date=r.woman_birth_date,
                level=r.level or "",
                exited=status == HouseholdStatus.exited.value,
                exited_on=r.exit_date,
                persons=tuple(sorted(members.get(r.id, []), key=lambda p: p.id)),
            )
        )
    return out
