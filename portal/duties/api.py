"""JSON API for duties: list, detail, progress entries, sign-off and review.

Same rules (`portal.duties.operations`, `portal.duties.queries`) and the same scoping
as the UI. Writes must carry the `row_version` they were based on: a missing one answers
400 (`row_version`), a stale one 409 `conflict`. A broken rule is answered by the API
blueprint's one `RuleError` handler; the request's unit of work commits.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from typing import Any

from flask import g, jsonify, request
from flask_babel import gettext as _

from portal.api import ApiError, api_requires, bp, get_or_404, iso, json_body, page_args, paginate
from portal.duties import operations, queries, storage
from portal.duties.models import Duty, ProgressEntry
from portal.kernel.periods import Period


def duty_json(row: Any) -> dict:
    duty = row.duty if isinstance(row, queries.DutyRow) else row
    data = {
        "id": str(duty.id),
        "period": duty.period,
        "period_label": Period.parse(duty.period).label,
        "measure": {
            "id": str(duty.measure_id),
            "number": duty.measure_number,
            "title": duty.measure.title,
            "category": duty.measure.category,
        },
        "department": {"id": str(duty.department_id), "name": duty.department.name},
        "role": duty.role.value,
        "status": duty.status.value,
        "overdue": queries.is_overdue(duty),
        "due_date": iso(duty.due_date),
        "assessment": duty.assessment.value if duty.assessment else None,
        "assessment_reason": duty.assessment_reason,
        "sign_off_statement": duty.sign_off_statement,
        "submitted_at": iso(duty.submitted_at),
        "submitted_by_id": str(duty.submitted_by_id) if duty.submitted_by_id else None,
        "reviewed_at": iso(duty.reviewed_at),
        "reviewed_by_id": str(duty.reviewed_by_id) if duty.reviewed_by_id else None,
        "review_note": duty.review_note,
        "row_version": duty.row_version,
    }
    if isinstance(row, queries.DutyRow):
        data["progress"] = {
            "entries": row.entries,
            "families_reached": row.families,
            "amount_paid": str(row.amount),
            "last_work_date": iso(row.last_work),
        }
    return data


def entry_json(entry: ProgressEntry) -> dict:
    return {
        "id": str(entry.id),
        "duty_id": str(entry.duty_id),
        "work_date": iso(entry.work_date),
        "narrative": entry.narrative,
        "families_reached": entry.families_reached,
        "amount_paid": str(entry.amount_paid),
        "created_by_id": str(entry.created_by_id) if entry.created_by_id else None,
        "created_at": iso(entry.created_at),
        "row_version": entry.row_version,
        "evidence": [
            {
                "id": str(f.id),
                "filename": f.filename,
                "content_type": f.content_type,
                "size": f.size,
                "sha256": f.sha256,
                "effective_date": iso(f.effective_date),
            }
            for f in entry.evidence
        ],
    }


@bp.get("/duties")
@api_requires("duty.read")
def duties_list() -> Any:
    raw_period = request.args.get("period")
    period = Period.parse(raw_period) if raw_period else Period.current()
    status = request.args.get("status", "")
    if status and status not in queries.STATUS_FILTERS:
        raise ApiError(
            400,
            "bad_status",
            _("status must be one of: %(values)s.", values=", ".join(queries.STATUS_FILTERS)),
        )
    department_id = None
    if request.args.get("department_id"):
        try:
            department_id = uuid.UUID(request.args["department_id"])
        except ValueError:
            raise ApiError(400, "bad_department_id", _("department_id must be a UUID.")) from None
    stmt = queries.duty_query(period=period, status=status, department_id=department_id)
    page_no, per_page = page_args()
    rows, total = queries.page(stmt, page_no, per_page)
    return jsonify(
        {
            "items": [duty_json(r) for r in rows],
            "page": page_no,
            "per_page": per_page,
            "total": total,
            "period": period.code,
        }
    )


@bp.get("/duties/<uuid:duty_id>")
@api_requires("duty.read")
def duty_detail(duty_id: uuid.UUID) -> Any:
    duty = get_or_404(Duty, duty_id)
    data = duty_json(duty)
    shown = queries.duty_page(duty)
    data["entries"] = [entry_json(e) for e in shown.entries]
    data["history"] = [
        {
            "action": r.action,
            "actor_id": str(r.actor_id) if r.actor_id else None,
            "note": r.note,
            "at": iso(r.at),
        }
        for r in shown.history
    ]
    return jsonify(data)


@bp.get("/duties/<uuid:duty_id>/entries")
@api_requires("duty.read")
def entries_list(duty_id: uuid.UUID) -> Any:
    duty = get_or_404(Duty, duty_id)
    return paginate(queries.entries_stmt(duty), entry_json)


def _uploads(body: dict) -> list[storage.Upload]:
    """Evidence in JSON: [{"filename", "content_base64", "effective_date"}]."""
    files = body.get("evidence") or []
    if not isinstance(files, list):
        raise ApiError(400, "invalid", _("evidence must be a list of files."))
    uploads = []
    for i, f in enumerate(files):
        if not isinstance(f, dict):
            raise ApiError(400, "invalid", _("evidence[%(i)s] must be an object.", i=i))
        try:
            data = base64.b64decode(str(f.get("content_base64", "")), validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(
                400, "invalid", _("evidence[%(i)s].content_base64 is not valid base64.", i=i)
            ) from None
        effective = None
        if f.get("effective_date"):
            try:
                effective = dt.date.fromisoformat(str(f["effective_date"]))
            except ValueError:
                raise ApiError(
                    400, "invalid", _("evidence[%(i)s].effective_date must be YYYY-MM-DD.", i=i)
                ) from None
        uploads.append(storage.Upload(str(f.get("filename", "")), data, effective))
    return uploads


def _version(body: dict) -> Any:
    """`row_version` as sent (required; the operation refuses a missing one)."""
    value = body.get("row_version")
    return value if isinstance(value, int | str) and not isinstance(value, bool) else None


@bp.post("/duties/<uuid:duty_id>/entries")
@api_requires("duty.log")
def entry_create(duty_id: uuid.UUID) -> Any:
    duty = get_or_404(Duty, duty_id)
    body = json_body()
    entry = operations.add_entry(
        duty,
        g.api_user,
        operations.EntryInput(
            work_date=body.get("work_date"),
            narrative=body.get("narrative"),
            families_reached=body.get("families_reached", 0),
            amount_paid=body.get("amount_paid", 0),
        ),
        _uploads(body),
        expected_version=_version(body),
    )
    return jsonify(entry_json(entry)), 201


@bp.post("/duties/<uuid:duty_id>/sign-off")
@api_requires("duty.sign_off")
def duty_sign_off(duty_id: uuid.UUID) -> Any:
    duty = get_or_404(Duty, duty_id)
    body = json_body()
    operations.sign_off(
        duty,
        g.api_user,
        assessment=body.get("assessment"),
        statement=body.get("statement"),
        reason=body.get("reason", ""),
        expected_version=_version(body),
    )
    return jsonify(duty_json(duty))


@bp.post("/duties/<uuid:duty_id>/review")
@api_requires("duty.review")
def duty_review(duty_id: uuid.UUID) -> Any:
    duty = get_or_404(Duty, duty_id)
    body = json_body()
    decision = body.get("decision")
    if decision not in ("accept", "return"):
        raise ApiError(400, "invalid", _('decision must be "accept" or "return".'))
    operations.review(
        duty,
        g.api_user,
        accept=decision == "accept",
        reason=body.get("reason", ""),
        expected_version=_version(body),
    )
    return jsonify(duty_json(duty))
