"""JSON API for joint meetings: meetings, agenda, department reports and action items.

Same operations and queries (portal.meetings) and the same scoping as the UI: an officer sees
the meetings their department is invited to, only their own department's report and
action items; other tenants' ids answer 404. Updates must carry `row_version`; a missing or stale one
answers 409 `conflict`. Endpoints call the operation and return: the API's one
`RuleError` handler rolls back and answers the JSON error; the request commits once.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import g, jsonify, request

from portal.api import ApiError, api_requires, bp, get_or_404, iso, json_body, paginate
from portal.kernel.clock import today
from portal.meetings import arrangement, decisions, queries, rules
from portal.meetings import reports as report_ops
from portal.meetings.models import ActionItem, DepartmentReport, Meeting


def meeting_json(m: Meeting) -> dict:
    return {
        "id": str(m.id),
        "number": m.number,
        "kind": m.kind.value,
        "period": m.period,
        "title": m.title,
        "date": iso(m.meeting_date),
        "start_time": m.start_time,
        "place": m.place,
        "chair": m.chair,
        "status": m.status.value,
        "row_version": m.row_version,
    }


def agenda_json(item: Any) -> dict:
    return {
        "id": str(item.id),
        "position": item.position,
        "title": item.title,
        "detail": item.detail,
        "source": item.source,
    }


def report_json(r: DepartmentReport) -> dict:
    return {
        "id": str(r.id),
        "meeting_id": str(r.meeting_id),
        "department": {"id": str(r.department_id), "name": r.department.name},
        "status": r.status.value,
        "body": r.body,
        "families_reached": r.families_reached,
        "amount_paid": str(r.amount_paid),
        "not_delivered": r.not_delivered,
        "submitted_at": iso(r.submitted_at),
        "row_version": r.row_version,
    }


def action_item_json(a: ActionItem) -> dict:
    return {
        "id": str(a.id),
        "meeting_id": str(a.meeting_id),
        "decision_id": str(a.decision_id),
        "department": {"id": str(a.department_id), "name": a.department.name},
        "text": a.text,
        "due_date": iso(a.due_date),
        "status": a.status.value,
        "overdue": a.is_overdue(today()),
        "progress_note": a.progress_note,
        "closing_note": a.closing_note,
        "closed_at": iso(a.closed_at),
        "row_version": a.row_version,
    }


@bp.get("/meetings")
@api_requires("meeting.read")
def meetings() -> Any:
    return paginate(queries.meetings_query(kind=request.args.get("kind")), meeting_json)


@bp.get("/meetings/<uuid:meeting_id>")
@api_requires("meeting.read")
def meeting(meeting_id: uuid.UUID) -> Any:
    m = get_or_404(Meeting, meeting_id)
    data = meeting_json(m)
    data["decisions"] = [
        {
            "id": str(s.decision.id),
            "number": s.decision.number,
            "text": s.decision.text,
            "state": s.state,
            "action_items": [action_item_json(a) for a in s.items],
        }
        for s in queries.decision_states(m)
    ]
    minutes = queries.minutes_of(m)
    draft_hidden = rules.can_report(g.api_user) and minutes.status.value == "draft"
    data["minutes"] = {
        "status": minutes.status.value,
        "body": "" if draft_hidden else minutes.body,  # officers see circulated/final minutes
    }
    data["invitations"] = [
        {
            "department": {"id": str(i.department_id), "name": i.department.name},
            "attendance": i.attendance.value,
            "delegate_name": i.delegate_name,
        }
        for i in queries.invitations(m)
    ]
    return jsonify(data)


@bp.post("/meetings")
@api_requires("meeting.manage")
def create_meeting() -> Any:
    body = json_body()
    departments = body.get("department_ids")
    if departments is not None and not isinstance(departments, list):
        raise ApiError(400, "invalid", "department_ids: must be a list")
    m = arrangement.create_meeting(
        g.api_user,
        arrangement.MeetingInput(
            kind=str(body.get("kind", "regular")),
            period=str(body.get("period") or ""),
            title=str(body.get("title") or ""),
            meeting_date=body.get("date"),
            start_time=str(body.get("start_time") or ""),
            place=str(body.get("place") or ""),
            chair=str(body.get("chair") or ""),
            department_ids=[str(d) for d in departments] if departments is not None else None,
            request_key=request.headers.get("Idempotency-Key") or body.get("request_key"),
        ),
    )
    return jsonify(meeting_json(m)), 201


@bp.get("/meetings/<uuid:meeting_id>/agenda")
@api_requires("meeting.read")
def agenda(meeting_id: uuid.UUID) -> Any:
    m = get_or_404(Meeting, meeting_id)
    items = queries.agenda_for(g.api_user, m)
    return jsonify(
        {"circulated": items is not None, "items": [agenda_json(i) for i in items or []]}
    )


@bp.get("/meetings/<uuid:meeting_id>/reports")
@api_requires("meeting.read")
def reports(meeting_id: uuid.UUID) -> Any:
    """Leads and auditors: every invited department with its report state; officers: their own."""
    m = get_or_404(Meeting, meeting_id)
    return jsonify(
        {
            "items": [
                {
                    "department": {
                        "id": str(t.invitation.department_id),
                        "name": t.invitation.department.name,
                    },
                    "submitted": t.submitted,
                    "report": report_json(t.report) if t.report else None,
                }
                for t in queries.report_tracking(m)
            ]
        }
    )


@bp.get("/reports/<uuid:report_id>")
@api_requires("meeting.read")
def report(report_id: uuid.UUID) -> Any:
    return jsonify(report_json(get_or_404(DepartmentReport, report_id)))


@bp.put("/reports/<uuid:report_id>")
@api_requires("meeting.report")
def update_report(report_id: uuid.UUID) -> Any:
    r = get_or_404(DepartmentReport, report_id)
    body = json_body()
    report_ops.save_report(
        g.api_user,
        r,
        report_ops.ReportInput(
            body=str(body.get("body", r.body)),
            families_reached=body.get("families_reached", r.families_reached),
            amount_paid=body.get("amount_paid", r.amount_paid),
            not_delivered=str(body.get("not_delivered", r.not_delivered)),
        ),
        submit=bool(body.get("submit")),
        expected_version=body.get("row_version"),
    )
    return jsonify(report_json(r))


@bp.get("/action-items")
@api_requires("meeting.read")
def action_items() -> Any:
    return paginate(
        queries.action_items_query(
            status=request.args.get("status"),
            overdue=request.args.get("overdue") in ("1", "true"),
        ),
        action_item_json,
    )


@bp.get("/action-items/<uuid:item_id>")
@api_requires("meeting.read")
def action_item(item_id: uuid.UUID) -> Any:
    return jsonify(action_item_json(get_or_404(ActionItem, item_id)))


@bp.post("/action-items/<uuid:item_id>")
@api_requires("action_item.update")
def update_action_item(item_id: uuid.UUID) -> Any:
    """`{"note": "...", "close": true, "row_version": n}`: progress note or close with note."""
    item = get_or_404(ActionItem, item_id)
    body = json_body()
    decisions.update_action_item(
        g.api_user,
        item,
        str(body.get("note") or ""),
        bool(body.get("close")),
        body.get("row_version"),
    )
    return jsonify(action_item_json(item))
