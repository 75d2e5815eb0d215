"""GET /api/v1/policy: the district's policy with measures, responsibilities and benefits.

`?date=YYYY-MM-DD` asks for the version in force on that day; without it the version in
force today, or (when none is, e.g. an expired or draft policy) the latest one, flagged
by `in_force: false`.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _

from portal.api import ApiError, api_requires, bp, iso
from portal.kernel import clock
from portal.policy import rules, services
from portal.policy.models import BenefitStandard, Measure, PolicyVersion
from portal.policy.problems import to_date


def _num(value: Any) -> Any:
    return services._num(value)


def benefit_json(b: BenefitStandard, day: Any) -> dict:
    return {
        "id": str(b.id),
        "name": b.name,
        "unit": b.unit,
        "frequency": b.frequency,
        "festivals": list(b.festivals or []),
        "amount_is_floor": b.amount_is_floor,
        "amount_note": b.amount_note,
        "max_quantity": b.max_quantity,
        "max_quantity_unit": b.max_quantity_unit,
        "hours_per_month": _num(b.hours_per_month),
        "eligibility": dict(b.eligibility or {}),
        "funding_split": [dict(s) for s in b.funding_split or []],
        "funding_split_applies_to": b.funding_split_applies_to or "whole",
        "funding_note": b.funding_note,
        "note": b.note,
        "amount": _num(b.amount_on(day)),
        "values": [
            {
                "amount": _num(v.amount),
                "effective_from": iso(v.effective_from),
                "in_force_before": iso(v.in_force_before),
                "source": v.source,
            }
            for v in b.values
        ],
    }


def measure_json(m: Measure, day: Any) -> dict:
    return {
        "id": str(m.id),
        "number": m.number,
        "category": m.category,
        "title": m.title,
        "text": m.text,
        "creates_duty": m.creates_duty,
        "clause": m.clause or "measure",
        "lead_from_document": m.lead_from_document,
        "inferred": dict(m.inferred or {}),
        "responsibilities": [
            {
                "department_id": str(r.department_id),
                "department_key": r.department.key,
                "department": r.department.name,
                "role": r.role.value,
            }
            for r in m.responsibilities
        ],
        "benefits": [benefit_json(b, day) for b in m.benefits],
    }


def version_json(v: PolicyVersion, day: Any) -> dict:
    return {
        "id": str(v.id),
        "title": v.title,
        "doc_number": v.doc_number,
        "issuers": list(v.issuers or []),
        "issued_on": iso(v.issued_on),
        "effective_from": v.effective_from.isoformat(),
        "effective_until": iso(v.effective_until),
        "status": v.status.value,
        "in_force": v.status.value != "draft" and v.in_force_on(day),
        "creates_duties": rules.generates_duties(v),
        "adopted_at": iso(v.adopted_at),
        "lead_department_key": v.lead_department_key or None,
        "inferred": dict(v.inferred or {}),
        "source": v.source,
        "measures": [measure_json(m, day) for m in v.measures],
    }


@bp.get("/policy")
@api_requires("policy.read")
def policy() -> Any:
    raw = request.args.get("date")
    if raw:
        day = to_date(raw)
        if day is None:
            raise ApiError(400, "bad_date", _("date must be given as YYYY-MM-DD."))
        chosen = services.current_version(day)
    else:
        day = clock.today()
        chosen = services.current_version(day) or services.latest_version()
    if chosen is None:
        raise ApiError(404, "no_policy", _("No policy is in force on that date."))
    version = services.load_version(chosen.id)
    assert version is not None
    return jsonify(version_json(version, day))
