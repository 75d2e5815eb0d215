"""Write a district's policy file (docs/policy-format.md) into the database.

`apply_policy` expects data that has already been validated (see
`portal.policy.schema`); it writes the departments, a new policy version with
its measures, responsibilities and benefits, and the meeting arrangement, without
committing: the caller commits once, so nothing is half-written.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import sqlalchemy as sa

from portal.extensions import db
from portal.policy.models import (
    BenefitStandard,
    BenefitValue,
    Measure,
    MeasureResponsibility,
    MeetingArrangement,
    PolicyDocument,
    PolicyVersion,
    ResponsibilityRole,
    VersionStatus,
)
from portal.tenancy.models import Department, Tenant
from portal.tenancy.services import upsert_department


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def apply_policy(tenant: Tenant, data: dict) -> PolicyVersion:
    """Run inside `scope.tenant_scope(tenant.id)`; the caller commits."""
    departments: dict[str, Department] = {}
    local_kinds = {k["code"]: k for k in data.get("department_kinds") or []}
    used: dict[str, list[str]] = {}
    for i, d in enumerate(data["departments"]):
        kind = d["kind"]
        if kind in local_kinds:  # the district's own kind: stored as `other`, named on the version
            used.setdefault(kind, []).append(d["key"])
            kind = "other"
        departments[d["key"]] = upsert_department(tenant, d["key"], kind, d["name"], i)
    db.session.flush()

    meta = data["policy"]
    document = db.session.execute(sa.select(PolicyDocument)).scalars().first()
    if document is None:
        document = PolicyDocument(title=meta["title"])
        db.session.add(document)
        db.session.flush()
    version = PolicyVersion(
        document_id=document.id,
        title=meta["title"],
        doc_number=meta.get("doc_number") or "",
        issuers=list(meta.get("issuers") or []),
        issued_on=_date(meta.get("issued_on")),
        effective_from=_date(meta["effective_from"]),
        effective_until=_date(meta.get("effective_until")),
        supersedes=list(meta.get("supersedes") or []),
        status=VersionStatus(meta.get("status", "in_force")),
        source=meta.get("source") or "",
        lead_department_key=meta.get("lead_department") or "",
        member_department_keys=list(meta.get("member_departments") or []),
        inferred=dict(meta.get("inferred") or {}),
        department_kinds=[
            {
                "code": code,
                "name": k["name"],
                **({"name_en": k["name_en"]} if k.get("name_en") else {}),
                "departments": used.get(code, []),
            }
            for code, k in local_kinds.items()
        ],
        care=dict(data.get("care") or {}),
    )
    db.session.add(version)
    db.session.flush()

    doc_lead = meta.get("lead_department") or None
    for position, m in enumerate(data["measures"]):
        clause = m.get("clause") or "measure"
        from_document = bool(
            doc_lead
            and clause == "measure"
            and m.get("duty", True)
            and not (m.get("lead") or m.get("cooperating"))
        )
        measure = Measure(
            version_id=version.id,
            number=str(m["number"]),
            position=position,
            category=m["category"],
            title=m["title"],
            text=m.get("text") or "",
            clause=clause,
            creates_duty=clause == "measure" and m.get("duty", True),
            lead_from_document=from_document,
            inferred=dict(m.get("inferred") or {}),
        )
        db.session.add(measure)
        db.session.flush()
        lead_keys = [doc_lead] if from_document else list(m.get("lead") or [])
        roles = [(k, ResponsibilityRole.lead) for k in lead_keys]
        roles += [(k, ResponsibilityRole.cooperating) for k in m.get("cooperating") or []]
        for pos, (key, role) in enumerate(roles):
            db.session.add(
                MeasureResponsibility(
                    measure_id=measure.id,
                    department_id=departments[key].id,
                    role=role,
                    position=pos,
                )
            )
        for bpos, b in enumerate(m.get("benefits") or []):
            benefit = BenefitStandard(
                measure_id=measure.id,
                position=bpos,
                name=b["name"],
                unit=b["unit"],
                frequency=b["frequency"],
                festivals=list(b.get("festivals") or []),
                amount_is_floor=bool(b.get("amount_is_floor", False)),
                amount_note=b.get("amount_note") or "",
                max_quantity=b.get("max_quantity"),
                max_quantity_unit=b.get("max_quantity_unit"),
                hours_per_month=b.get("hours_per_month"),
                eligibility=dict(b.get("eligibility") or {}),
                funding_split=list(b.get("funding_split") or []),
                funding_split_applies_to=b.get("funding_split_applies_to") or "",
                funding_note=b.get("funding_note") or "",
                note=b.get("note") or "",
                entitlement=dict(b.get("entitlement") or {}),
            )
            db.session.add(benefit)
            db.session.flush()
            for v in b.get("values") or []:
                db.session.add(
                    BenefitValue(
                        benefit_id=benefit.id,
                        amount=decimal.Decimal(str(v["amount"])),
                        effective_from=_date(v.get("effective_from")),
                        in_force_before=_date(v.get("in_force_before")),
                        source=v.get("source") or "",
                    )
                )

    meeting = data.get("meeting")
    if meeting:
        arrangement = db.session.execute(sa.select(MeetingArrangement)).scalars().first()
        if arrangement is None:
            arrangement = MeetingArrangement(name=meeting.get("name") or "")
            db.session.add(arrangement)
        arrangement.name = meeting.get("name") or ""
        arrangement.cadence = meeting.get("cadence") or ""  # "" = the document names none
        arrangement.chief_convener = meeting.get("chief_convener") or ""
        arrangement.conveners = list(meeting.get("conveners") or [])
        office = meeting.get("office_department")
        arrangement.office_department_id = departments[office].id if office else None
        arrangement.member_department_ids = [
            str(departments[k].id) for k in meeting.get("member_departments") or []
        ]
        arrangement.note = meeting.get("note") or ""
        arrangement.inferred = dict(meeting.get("inferred") or {})
    else:
        # The document sets up no joint meeting: none is kept from an earlier version.
        for arrangement in db.session.execute(sa.select(MeetingArrangement)).scalars():
            db.session.delete(arrangement)
    db.session.flush()
    return version
