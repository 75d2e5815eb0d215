"""/api/v1/care: the households in the token user's scope with their care status, one
household's contacts, contracts, check-ups, visits and due festival visits, and recording
a visit — the same operations, queries and scoping as the care pages.

Reads need `care.read` (village contacts: their households; town officers: their town;
the lead, the auditor and the eligibility department: the district; other departments'
officers: 404, as on the pages). Recording a visit needs `care.visit` and carries the
household's `row_version` as read from `GET /care/households/<id>`: missing → 400
(`row_version`), stale → 409 `conflict` (the register changed the household since).
Phone numbers are masked; nothing here commits (the request's unit of work does).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, g, jsonify
from flask_babel import gettext as _

from portal.api import ApiError, api_requires, bp, get_or_404, iso, json_body, page_args, paginate
from portal.care import operations, queries, rules
from portal.care.models import Visit
from portal.extensions import db
from portal.register import pii
from portal.register.models import Household
from portal.register.queries import household_brief


def _check() -> None:
    """Officers of departments other than eligibility see no household's care: 404."""
    if not rules.can_use(g.api_user, "care.read"):
        abort(404)


def visit_json(v: Visit) -> dict:
    return {
        "id": str(v.id),
        "household_id": str(v.household_id),
        "visited_on": iso(v.visited_on),
        "kind": v.kind.value,
        "festival": v.festival or None,
        "festival_year": v.festival_year,
        "contact_id": str(v.contact_id) if v.contact_id else None,
        "visitor_name": v.visitor_name,
        "companions": v.companions,
        "findings": v.findings,
        "follow_up": v.follow_up,
        "follow_up_note": v.follow_up_note,
        "created_at": iso(v.created_at),
    }


@bp.get("/care/households")
@api_requires("care.read")
def care_households() -> Any:
    """`?page=&per_page=`: the households in scope, each with its care status."""
    _check()
    page, per_page = page_args()
    stmt = queries.status_select()
    total = db.session.execute(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    ).scalar_one()
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).unique().all()
    items = [
        {**household_brief(r[0]), "status": {k: bool(r._mapping[k]) for k in queries.STATUS_FLAGS}}
        for r in rows
    ]
    return jsonify({"items": items, "page": page, "per_page": per_page, "total": total})


@bp.get("/care/households/<household_id>")
@api_requires("care.read")
def care_household(household_id: str) -> Any:
    """One household's care: contacts (current and past, phones masked), family-doctor
    contracts, check-ups, the last 100 visits and this year's festival visits due."""
    _check()
    h = get_or_404(Household, household_id)
    care = queries.household_care(h.id)
    return jsonify(
        {
            **household_brief(h),
            "festival_visits": [
                {"festival": d["festival"], "date": iso(d["date"]), "state": d["state"]}
                for d in queries.household_due(h, rules.today())
            ],
            "contacts": [
                {
                    "id": str(c.id),
                    "name": c.name,
                    "role": c.role,
                    "unit": c.unit,
                    "position": c.position,
                    "phone": pii.mask_phone(c.phone),
                    "started_on": iso(a.started_on),
                    "ended_on": iso(a.ended_on),
                    "end_reason": a.end_reason,
                }
                for a, c in care["assignments"]
            ],
            "contracts": [
                {
                    "person_id": str(k.person_id),
                    "doctor": k.doctor,
                    "institution": k.institution,
                    "signed_on": iso(k.signed_on),
                    "renewed_on": iso(k.renewed_on),
                    "declined": k.declined,
                    "declined_reason": k.declined_reason,
                }
                for k in care["contracts"]
            ],
            "checkups": [
                {
                    "id": str(c.id),
                    "person_id": str(c.person_id),
                    "done_on": iso(c.done_on),
                    "institution": c.institution,
                    "note": c.note,
                }
                for c in care["checkups"]
            ],
            "visits": [visit_json(v) for v in care["visits"]],
        }
    )


@bp.get("/care/households/<household_id>/visits")
@api_requires("care.read")
def care_visits(household_id: str) -> Any:
    _check()
    h = get_or_404(Household, household_id)
    stmt = (
        sa.select(Visit)
        .where(Visit.household_id == h.id)
        .order_by(Visit.visited_on.desc(), Visit.created_at.desc())
    )
    return paginate(stmt, visit_json)


@bp.post("/care/households/<household_id>/visits")
@api_requires("care.visit")
def care_record_visit(household_id: str) -> Any:
    """`{visited_on, kind, festival?, companions?, findings?, follow_up?,
    follow_up_note?, row_version}` → 201 with the visit."""
    h = get_or_404(Household, household_id)
    body = json_body()
    follow_up = body.get("follow_up", False)
    if not isinstance(follow_up, bool):
        raise ApiError(400, "invalid", _("follow_up must be true or false."))
    text = {
        k: body.get(k) or ""
        for k in ("kind", "festival", "companions", "findings", "follow_up_note")
    }
    if any(not isinstance(v, str) for v in text.values()):
        raise ApiError(400, "invalid", _("Text fields must be strings."))
    visit = operations.record_visit(
        g.api_user,
        h.id,
        visited_on=body.get("visited_on"),
        follow_up=follow_up,
        expected_version=body.get("row_version"),
        **text,
    )
    return jsonify(visit_json(visit)), 201
