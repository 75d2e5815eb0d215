"""Audit coverage cases of the meetings domain (collected by tests/audit/test_coverage.py)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from tests.audit.coverage import (
    Ctx,
    Exercise,
    Expect,
    Listed,
    bearer,
    clone,
    department_id_of,
    exported,
    first_id,
    mark,
    marked_post,
    officer_of,
    row_version,
    scalars,
    signed_in,
)
from tests.conftest import Browser


def _meeting_child(model: str, **extra: Any) -> Callable[[Ctx], Any]:
    """A row hanging off a brand-new meeting (one per meeting and department)."""

    def make(ctx: Ctx) -> Any:
        meeting = ctx.make("Meeting")
        values = {"meeting_id": meeting.id, **extra}
        if model != "Minutes":
            values["department_id"] = ctx.first("Department").id
        return ctx.model(model)(**values)

    return make


def _without_request_key(model: str) -> Callable[[Ctx], Any]:
    """A clone of a demo row with no one-time create key (NULLs never clash; a varied key
    could: the generic clone varies a string by one random hex digit). A meeting's
    period is left empty as on an ad hoc meeting: the generic update would append
    "~upd" to a six-character period code, which PostgreSQL refuses."""

    def make(ctx: Ctx) -> Any:
        row = clone(ctx.first(model))
        row.request_key = None
        if hasattr(row, "period"):
            row.period = None
        return row

    return make


def _open_action_item(app: Any) -> tuple[uuid.UUID, Any, str]:
    """An open action item in 姜堰 and its department's officer (not civil affairs: that
    officer's password is reset by an earlier case)."""
    civil_affairs = department_id_of(app, "jiangyan", "civil_affairs")
    item_id, item = first_id(
        app,
        "ActionItem",
        "jiangyan",
        lambda cls: sa.and_(cls.status == "open", cls.department_id != civil_affairs),
    )
    return item_id, item, officer_of(app, "jiangyan", item.department_id)


def _meeting_rows(app: Any, slug: str, model: str, meeting_id: uuid.UUID) -> int:
    (n,) = scalars(
        app,
        slug,
        lambda m: (
            sa.select(sa.func.count())
            .select_from(m(model))
            .where(m(model).meeting_id == meeting_id)
        ),
    )
    return n


# The meeting exercises run in 姜堰 on its demo meetings or on one made for the case.
def _meeting_new(app: Any) -> list[Expect]:
    b = signed_in(app, "jiangyan-lead")
    r = marked_post(
        app,
        b,
        "/t/jiangyan/meetings/new",
        {
            "kind": "ad_hoc",
            "title": "覆盖测试专题会议",
            "meeting_date": "2027-03-01",
            "start_time": "09:00",
            "place": "区卫健委会议室",
            "chair": "分管副区长",
        },
        csrf_from="/t/jiangyan/meetings/new",
    )
    meeting_id = uuid.UUID(re.search(r"/meetings/([0-9a-f-]{36})", r.headers["Location"]).group(1))
    invited = _meeting_rows(app, "jiangyan", "MeetingInvitation", meeting_id)
    agenda = _meeting_rows(app, "jiangyan", "AgendaItem", meeting_id)
    assert invited > 5 and agenda > 0
    return (
        [Expect("create", "Meeting", "jiangyan", entity_id=str(meeting_id))]
        + [Expect("create", "MeetingInvitation", "jiangyan")] * invited
        + [Expect("create", "AgendaItem", "jiangyan")] * agenda
        + [Expect("create", "Minutes", "jiangyan")]  # the empty draft
    )


def _new_meeting_id(app: Any, title: str, day: str = "2027-04-01") -> uuid.UUID:
    """A planned ad hoc meeting of every department, made before the case's mark."""
    b = signed_in(app, "jiangyan-lead")
    r = b.post(
        "/t/jiangyan/meetings/new",
        {"kind": "ad_hoc", "title": title, "meeting_date": day, "chair": "主任"},
        csrf_from="/t/jiangyan/meetings/new",
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    return uuid.UUID(re.search(r"/meetings/([0-9a-f-]{36})", r.headers["Location"]).group(1))


def _meeting_edit(app: Any) -> list[Expect]:
    meeting_id = _new_meeting_id(app, "覆盖测试：待修改的会议")
    b = signed_in(app, "jiangyan-lead")
    path = f"/t/jiangyan/meetings/{meeting_id}"
    page = b.get(path).get_data(as_text=True)
    version = row_version(page)
    marked_post(
        app,
        b,
        f"{path}/edit",
        {
            "kind": "ad_hoc",
            "title": "覆盖测试：修改后的会议",
            "meeting_date": "2027-04-01",
            "chair": "主任",
            "place": "区政府第二会议室",
            "row_version": version,
        },
        csrf_from=path,
    )
    return [
        Expect(
            "update", "Meeting", "jiangyan", entity_id=str(meeting_id), changed={"title", "place"}
        )
    ]


def _meeting_add_decision(app: Any) -> list[Expect]:
    meeting_id = _new_meeting_id(app, "覆盖测试：议定事项")
    dept = department_id_of(app, "jiangyan", "civil_affairs")
    b = signed_in(app, "jiangyan-lead")
    path = f"/t/jiangyan/meetings/{meeting_id}"
    marked_post(
        app,
        b,
        f"{path}/decisions",
        {
            "decision": "覆盖测试：各成员单位按季度报送台账。",
            "action_text": "报送第一季度台账",
            "departments": [str(dept)],
            "due_date": "2027-05-01",
        },
        csrf_from=path,
    )
    return [
        Expect("create", "Decision", "jiangyan"),
        Expect("create", "ActionItem", "jiangyan"),
    ]


def _meeting_close_action_item(app: Any) -> list[Expect]:
    item_id, item, officer = _open_action_item(app)
    b = signed_in(app, officer)
    marked_post(
        app,
        b,
        f"/t/jiangyan/meetings/action-items/{item_id}",
        {"op": "close", "note": "覆盖测试：已完成。", "row_version": str(item.row_version)},
        csrf_from="/t/jiangyan/meetings/action-items",
    )
    return [
        Expect(
            "update",
            "ActionItem",
            "jiangyan",
            entity_id=str(item_id),
            changed={"closed_at", "closed_by_id", "closing_note", "status"},
        ),
        Expect("action_item_closed", "ActionItem", "jiangyan", entity_id=str(item_id)),
    ]


def _invited(app: Any, meeting_id: uuid.UUID) -> set[uuid.UUID]:
    invitation = "MeetingInvitation"
    return set(
        scalars(
            app,
            "jiangyan",
            lambda m: sa.select(m(invitation).department_id).where(
                m(invitation).meeting_id == meeting_id
            ),
        )
    )


def _meeting_attendance(app: Any) -> list[Expect]:
    # attendance is recorded from the meeting's day: a meeting held a few days ago
    meeting_id = _new_meeting_id(app, "覆盖测试：出席情况", day="2026-11-20")
    dept = sorted(_invited(app, meeting_id), key=str)[0]
    b = signed_in(app, "jiangyan-lead")
    path = f"/t/jiangyan/meetings/{meeting_id}"
    marked_post(
        app,
        b,
        f"{path}/attendance",
        {f"attendance-{dept}": "delegate", f"delegate-{dept}": "李副局长"},
        csrf_from=path,
    )
    # recording attendance never changes the meeting's state (no Meeting update)
    return [
        Expect("update", "MeetingInvitation", "jiangyan", changed={"attendance", "delegate_name"}),
    ]


def _meeting_invite(app: Any) -> list[Expect]:
    meeting_id = _new_meeting_id(app, "覆盖测试：补充邀请")
    everyone = {
        department_id_of(app, "jiangyan", k) for k in ("civil_affairs", "finance", "justice")
    }
    dept = sorted(everyone - _invited(app, meeting_id), key=str)[0]
    b = signed_in(app, "jiangyan-lead")
    path = f"/t/jiangyan/meetings/{meeting_id}"
    marked_post(app, b, f"{path}/invite", {"department": str(dept)}, csrf_from=path)
    assert dept in _invited(app, meeting_id)
    return [Expect("create", "MeetingInvitation", "jiangyan")]


def _meeting_minutes(app: Any) -> list[Expect]:
    meeting_id = _new_meeting_id(app, "覆盖测试：会议纪要")
    b = signed_in(app, "jiangyan-lead")
    path = f"/t/jiangyan/meetings/{meeting_id}"
    page = b.get(path).get_data(as_text=True)
    form = page[page.index('id="minutes-form"') :]
    version = row_version(form)
    marked_post(
        app,
        b,
        f"{path}/minutes",
        {"op": "save", "body": "## 会议纪要\n\n覆盖测试。", "row_version": version},
        csrf_from=path,
    )
    return [Expect("update", "Minutes", "jiangyan", changed={"body", "updated_at"})]


def _meeting_add_action(app: Any) -> list[Expect]:
    meeting_id = _new_meeting_id(app, "覆盖测试：追加任务")
    dept = department_id_of(app, "jiangyan", "finance")
    b = signed_in(app, "jiangyan-lead")
    path = f"/t/jiangyan/meetings/{meeting_id}"
    b.post(f"{path}/decisions", {"decision": "覆盖测试：落实资金。"}, csrf_from=path)
    decision_id, _row = first_id(
        app, "Decision", "jiangyan", lambda cls: cls.meeting_id == meeting_id
    )
    marked_post(
        app,
        b,
        f"{path}/decisions/{decision_id}/actions",
        {"action_text": "拨付资金", "departments": [str(dept)], "due_date": "2027-06-30"},
        csrf_from=path,
    )
    return [Expect("create", "ActionItem", "jiangyan")]


def _invited_officer(app: Any, meeting_id: uuid.UUID) -> tuple[uuid.UUID, str]:
    """An invited department (not civil affairs, whose officer an earlier case resets)."""
    skip = department_id_of(app, "jiangyan", "civil_affairs")
    dept_id = sorted(_invited(app, meeting_id) - {skip}, key=str)[0]
    return dept_id, officer_of(app, "jiangyan", dept_id)


def _save_report_draft(b: Browser, meeting_id: uuid.UUID) -> None:
    """The first save stores the report (opening the page writes nothing)."""
    path = f"/t/jiangyan/meetings/{meeting_id}/report"
    page = b.get(path).get_data(as_text=True)
    version = row_version(page)
    fields = {"op": "save", "body": "", "families_reached": "", "amount_paid": ""}
    r = b.post(path, {**fields, "not_delivered": "", "row_version": version}, csrf_from=path)
    assert r.status_code == 302, r.get_data(as_text=True)[:800]


def _submit_report(b: Browser, meeting_id: uuid.UUID) -> None:
    path = f"/t/jiangyan/meetings/{meeting_id}/report"
    page = b.get(path).get_data(as_text=True)
    version = row_version(page)
    r = b.post(
        path,
        {
            "op": "submit",
            "body": "覆盖测试：本部门半年工作汇报。",
            "families_reached": "3",
            "amount_paid": "900",
            "not_delivered": "",
            "row_version": version,
        },
        csrf_from=path,
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:800]


def _meeting_my_report(app: Any) -> list[Expect]:
    meeting_id = _new_meeting_id(app, "覆盖测试：部门汇报")
    _dept, officer = _invited_officer(app, meeting_id)
    b = signed_in(app, officer)
    _save_report_draft(b, meeting_id)  # the draft exists before the mark
    mark(app)
    _submit_report(b, meeting_id)
    return [
        Expect(
            "update",
            "DepartmentReport",
            "jiangyan",
            actor=officer,
            changed={
                "amount_paid",
                "body",
                "families_reached",
                "status",
                "submitted_at",
                "submitted_by_id",
                "updated_at",
            },
        ),
        Expect("report_submitted", "DepartmentReport", "jiangyan", actor=officer),
    ]


def _meeting_return_report(app: Any) -> list[Expect]:
    meeting_id = _new_meeting_id(app, "覆盖测试：退回汇报")
    dept, officer = _invited_officer(app, meeting_id)
    _submit_report(signed_in(app, officer), meeting_id)
    b = signed_in(app, "jiangyan-lead")
    path = f"/t/jiangyan/meetings/{meeting_id}"
    marked_post(app, b, f"{path}/reports/{dept}/return", {}, csrf_from=path)
    return [Expect("update", "DepartmentReport", "jiangyan")]


def _meeting_agenda_add(app: Any) -> list[Expect]:
    meeting_id = _new_meeting_id(app, "覆盖测试：议程")
    b = signed_in(app, "jiangyan-lead")
    path = f"/t/jiangyan/meetings/{meeting_id}"
    marked_post(
        app,
        b,
        f"{path}/agenda",
        {"op": "add", "title": "覆盖测试议题", "detail": "补充议题"},
        csrf_from=path,
    )
    return [Expect("create", "AgendaItem", "jiangyan")]


def _api_create_meeting(app: Any) -> list[Expect]:
    headers = bearer(app, "jiangyan-lead")
    mark(app)
    r = app.test_client().post(
        "/api/v1/meetings",
        json={"kind": "ad_hoc", "title": "覆盖测试：接口建会", "date": "2027-05-10"},
        headers=headers,
    )
    assert r.status_code == 201, r.get_json()
    meeting_id = uuid.UUID(r.get_json()["id"])
    invited = _meeting_rows(app, "jiangyan", "MeetingInvitation", meeting_id)
    agenda = _meeting_rows(app, "jiangyan", "AgendaItem", meeting_id)
    who = "jiangyan-lead"
    return (
        [Expect("create", "Meeting", "jiangyan", actor=who, entity_id=str(meeting_id))]
        + [Expect("create", "MeetingInvitation", "jiangyan", actor=who)] * invited
        + [Expect("create", "AgendaItem", "jiangyan", actor=who)] * agenda
        + [Expect("create", "Minutes", "jiangyan", actor=who)]
    )


def _api_close_action_item(app: Any) -> list[Expect]:
    item_id, item, officer = _open_action_item(app)
    headers = bearer(app, officer)
    mark(app)
    r = app.test_client().post(
        f"/api/v1/action-items/{item_id}",
        json={"note": "覆盖测试：接口办结。", "close": True, "row_version": item.row_version},
        headers=headers,
    )
    assert r.status_code == 200, r.get_json()
    return [
        Expect("update", "ActionItem", "jiangyan", actor=officer, entity_id=str(item_id)),
        Expect("action_item_closed", "ActionItem", "jiangyan", actor=officer),
    ]


def _meeting_id(app: Any, slug: str) -> uuid.UUID:
    meeting_id, _row = first_id(app, "Meeting", slug)
    return meeting_id


def _meetings_export(kind: str) -> Callable[[Any], list[Expect]]:
    def run(app: Any) -> list[Expect]:
        meeting_id = _meeting_id(app, "jiangyan")
        path = f"/t/jiangyan/meetings/{meeting_id}/export/{kind}.docx"
        exported(app, "jiangyan-lead", path, zipped=True)
        return [Expect("export", "Meeting", "jiangyan", entity_id=str(meeting_id))]

    return run


#: State-changing routes and API endpoints of this domain.
ROUTES: dict[str, Exercise | Listed] = {
    "meetings.new": Exercise(_meeting_new),
    "meetings.arrangement": Listed(
        "update MeetingArrangement (changed fields, district chain), actor the lead",
        test="tests/meetings/test_views.py::test_lead_edits_arrangement_and_officer_cannot",
    ),
    "meetings.edit": Exercise(_meeting_edit),
    "meetings.agenda_action": Exercise(_meeting_agenda_add),
    "meetings.attendance": Exercise(_meeting_attendance),
    "meetings.invite": Exercise(_meeting_invite),
    "meetings.minutes": Exercise(_meeting_minutes),
    "meetings.add_decision": Exercise(_meeting_add_decision),
    "meetings.add_action": Exercise(_meeting_add_action),
    "meetings.my_report": Exercise(_meeting_my_report),
    "meetings.return_report": Exercise(_meeting_return_report),
    "meetings.update_action_item": Exercise(_meeting_close_action_item),
    "api.create_meeting": Exercise(_api_create_meeting),
    "api.update_report": Listed(
        "as meetings.my_report, actor the token's user",
        test="tests/meetings/test_api.py",
    ),
    "api.update_action_item": Exercise(_api_close_action_item),
    "meetings.preview_markdown": Listed(
        "no event: the preview renders the posted text and stores nothing",
        test="tests/meetings/test_preview.py",
    ),
}

#: Exports and downloads of this domain.
DOWNLOADS: dict[str, Exercise | Listed] = {
    "meetings.export_minutes": Exercise(_meetings_export("minutes")),
    "meetings.export_prep_pack": Exercise(_meetings_export("prep-pack")),
}

#: Factories for models the generic clone cannot make.
MODEL_FACTORIES: dict[str, Callable[[Ctx], Any]] = {
    "Meeting": _without_request_key("Meeting"),
    "Decision": _without_request_key("Decision"),
    "MeetingInvitation": _meeting_child("MeetingInvitation"),
    "DepartmentReport": _meeting_child("DepartmentReport", body="coverage"),
    "Minutes": _meeting_child("Minutes", body="coverage"),
    "MinutesComment": _meeting_child("MinutesComment", body="coverage"),
}
