"""站内消息 and 通知公告: a returned duty reaches its officer with the unread badge;
messages are private to their user; notices stay in their district (the operator's reach
every district); force sign-out ends the other session."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from portal.duties.models import Duty, DutyStatus
from portal.extensions import db
from portal.kernel import clock
from portal.kernel.periods import Period
from portal.tenancy import scope
from portal.tenancy.models import Department, Tenant


def _tenant_id(app, slug: str):  # type: ignore[no-untyped-def]
    with app.app_context(), scope.cross_tenant("test"):
        return db.session.execute(sa.select(Tenant.id).filter_by(slug=slug)).scalar_one()


def _not_started_duty(app, dept_key: str = "civil_affairs") -> Duty:  # type: ignore[no-untyped-def]
    with app.app_context(), scope.tenant_scope(_tenant_id(app, "kaifeng")):
        dept = db.session.execute(sa.select(Department).filter_by(key=dept_key)).scalar_one()
        duty = (
            db.session.execute(
                sa.select(Duty)
                .where(
                    Duty.period == Period.current().code,
                    Duty.department_id == dept.id,
                    Duty.status == DutyStatus.not_started,
                )
                .order_by(Duty.measure_number)
            )
            .unique()
            .scalars()
            .first()
        )
        db.session.expunge(duty)
        return duty


def _row_version(b, url: str) -> str:  # type: ignore[no-untyped-def]
    """The duty's row_version as its page shows it (every duty form must send it)."""
    page = b.get(url).get_data(as_text=True)
    found = re.search(r'name="row_version"[^>]*value="(\d+)"', page) or re.search(
        r'value="(\d+)"[^>]*name="row_version"', page
    )
    assert found, "the duty page carries no row_version"
    return found.group(1)


def _unread_badge(page: str) -> int:
    found = re.search(
        r'id="unread-messages"[^>]*>.*?(?:<span class="count">(\d+)</span>)?</a>', page, re.S
    )
    assert found, "the shell shows no messages link"
    return int(found.group(1) or 0)


def _post_on_duty(b, url: str, action: str, fields: dict) -> None:  # type: ignore[no-untyped-def]
    """Posts one of the duty page's forms with the version the page shows; it must go through."""
    r = b.post(f"{url}/{action}", {**fields, "row_version": _row_version(b, url)}, csrf_from=url)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]


def test_returning_a_duty_messages_the_officer_with_the_unread_badge(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    duty = _not_started_duty(fresh_app)
    url = f"/t/kaifeng/duties/{duty.id}"
    officer = login_as("kaifeng-civil-affairs", fresh_app)
    before = _unread_badge(officer.get("/t/kaifeng/").get_data(as_text=True))
    entry = {
        "work_date": min(clock.today(), duty.due_date).isoformat(),
        "narrative": "入户走访特殊家庭",
        "families_reached": "3",
        "amount_paid": "0",
    }
    _post_on_duty(officer, url, "entries", entry)
    _post_on_duty(officer, url, "sign-off", {"assessment": "fully", "statement": "已全面落实"})
    lead = login_as("kaifeng-lead", fresh_app)
    _post_on_duty(lead, url, "review", {"decision": "return", "reason": "请补充走访台账。"})

    home = officer.get("/t/kaifeng/").get_data(as_text=True)
    assert _unread_badge(home) == before + 1
    page = officer.get("/t/kaifeng/messages/?unread=1").get_data(as_text=True)
    assert "职责被退回" in page and duty.measure_number in page and "请补充走访台账。" in page
    # the lead did not get it; the message opens the duty and is then read
    subject = f"{duty.measure_number} {duty.measure.title}"
    assert subject in page
    assert subject not in lead.get("/t/kaifeng/messages/").get_data(as_text=True)
    link = re.search(r'action="(/t/kaifeng/messages/[0-9a-f-]+/read)"', page).group(1)
    assert lead.post(link, csrf_from="/t/kaifeng/messages/").status_code == 404
    r = officer.post(link, csrf_from="/t/kaifeng/messages/")
    assert r.status_code == 302 and r.headers["Location"].endswith(url)
    assert _unread_badge(officer.get("/t/kaifeng/").get_data(as_text=True)) == before


def test_accepting_messages_the_submitter_and_meeting_invitations_reach_officers(
    fresh_app, login_as
) -> None:  # type: ignore[no-untyped-def]
    from portal.messages.models import Message, MessageKind

    lead = login_as("kaifeng-lead", fresh_app)
    r = lead.post(
        "/t/kaifeng/meetings/new",
        {"kind": "ad_hoc", "title": "专题协调会", "meeting_date": "2027-01-15", "place": "会议室"},
        csrf_from="/t/kaifeng/meetings/new",
    )
    if r.status_code != 302:  # the form may ask for departments: invite two
        with fresh_app.app_context(), scope.tenant_scope(_tenant_id(fresh_app, "kaifeng")):
            ids = [str(i) for i in db.session.execute(sa.select(Department.id).limit(2)).scalars()]
        r = lead.post(
            "/t/kaifeng/meetings/new",
            {
                "kind": "ad_hoc",
                "title": "专题协调会",
                "meeting_date": "2027-01-15",
                "place": "会议室",
                "departments": ids,
            },
            csrf_from="/t/kaifeng/meetings/new",
        )
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    with fresh_app.app_context(), scope.tenant_scope(_tenant_id(fresh_app, "kaifeng")):
        invited = db.session.execute(
            sa.select(sa.func.count(Message.id)).where(
                Message.kind == MessageKind.meeting_invited, Message.subject == "专题协调会"
            )
        ).scalar_one()
    assert invited >= 1


def _submit(b: Any, page: str, **form: str) -> Any:
    """`form` posted to the page that shows it (the CSRF token taken from there)."""
    return b.post(page, form, csrf_from=page)


def test_lead_notice_stays_in_the_district(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    lead = login_as("kaifeng-lead", fresh_app)
    notices = "/t/kaifeng/notices/"
    r = _submit(lead, notices, title="关于做好年终签报工作的通知", body="请于12月25日前完成签报。")
    assert r.status_code == 302
    officer = login_as("kaifeng-civil-affairs", fresh_app)
    assert "关于做好年终签报工作的通知" in officer.get("/t/kaifeng/notices/").get_data(as_text=True)
    other = login_as("jiading-lead", fresh_app)
    assert "关于做好年终签报工作的通知" not in other.get("/t/jiading/notices/").get_data(
        as_text=True
    )
    # empty title: the field is named, nothing posted
    r = _submit(lead, notices, title=" ", body="x")
    assert r.status_code == 400 and "标题" in r.get_data(as_text=True)
    # officers read but do not post
    r = _submit(officer, notices, title="x")
    assert r.status_code == 403


def test_operator_notice_reaches_every_district(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.audit.models import AuditEvent

    op = login_as("operator", fresh_app)
    r = _submit(op, "/platform/notices", title="平台维护通知", body="本周六凌晨维护。")
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    for slug in ("kaifeng", "jiading"):
        page = login_as(f"{slug}-lead", fresh_app).get(f"/t/{slug}/notices/").get_data(as_text=True)
        assert "平台维护通知" in page
    with fresh_app.app_context(), scope.cross_tenant("test"):
        created = db.session.execute(
            sa.select(sa.func.count(AuditEvent.seq)).where(
                AuditEvent.action == "create", AuditEvent.entity_type == "Notice"
            )
        ).scalar_one()
        active = db.session.execute(
            sa.select(sa.func.count(Tenant.id)).where(Tenant.status == "active")
        ).scalar_one()
    assert created == active
    page = op.get("/platform/notices").get_data(as_text=True)
    action = re.search(r'action="(/platform/notices/[0-9a-f-]+/withdraw)"', page).group(1)
    assert op.post(action, csrf_from="/platform/notices").status_code == 302
    assert "平台维护通知" not in login_as("kaifeng-lead", fresh_app).get(
        "/t/kaifeng/notices/"
    ).get_data(as_text=True)


def test_force_sign_out_ends_the_other_session(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.audit.models import AuditEvent

    officer = login_as("kaifeng-civil-affairs", fresh_app)
    assert officer.get("/t/kaifeng/").status_code == 200
    lead = login_as("kaifeng-lead", fresh_app)
    page = lead.get("/t/kaifeng/online").get_data(as_text=True)
    assert 'data-username="kaifeng-civil-affairs"' in page
    assert 'data-username="jiading-lead"' not in page  # another district's sessions stay hidden
    action = re.search(
        r'data-username="kaifeng-civil-affairs".*?action="([^"]+/sign-out)"', page, re.S
    ).group(1)
    assert lead.post(action, csrf_from="/t/kaifeng/online").status_code == 302
    r = officer.get("/t/kaifeng/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    page = lead.get("/t/kaifeng/online").get_data(as_text=True)
    assert 'data-username="kaifeng-civil-affairs"' not in page
    assert lead.get("/t/kaifeng/").status_code == 200  # the lead's own session goes on
    with fresh_app.app_context(), scope.cross_tenant("test"):
        assert (
            db.session.execute(
                sa.select(sa.func.count(AuditEvent.seq)).where(
                    AuditEvent.action == "session.force_sign_out"
                )
            ).scalar_one()
            == 1
        )
    # the operator sees every district's sessions; a lead cannot reach another district's user
    op = login_as("operator", fresh_app)
    assert 'data-username="kaifeng-lead"' in op.get("/platform/online").get_data(as_text=True)
    other = login_as("jiading-lead", fresh_app)
    from portal.auth.models import User

    with fresh_app.app_context():
        lead_id = db.session.execute(
            sa.select(User.id).filter_by(username="kaifeng-lead")
        ).scalar_one()
    r = other.post(f"/t/jiading/online/{lead_id}/sign-out", csrf_from="/t/jiading/online")
    assert r.status_code == 404
    assert lead.get("/t/kaifeng/").status_code == 200
