"""One time format for the whole app (issue 13): every page that shows a time shows it in the
district's zone (Asia/Shanghai), "2026年12月6日 07:37", never "UTC" and never the stored value."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from tests.conftest import Browser

#: A fixed instant: 23:37 UTC on 5 December is 07:37 on 6 December in Beijing.
INSTANT = dt.datetime(2026, 12, 5, 23, 37)
BEIJING = "2026年12月6日 07:37"
BEIJING_DAY = "2026年12月6日"
STORED = ("2026-12-05 23:37", "23:37", "2026-12-05T23:37")


def _stamp(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Put the instant on every kind of time a page shows; returns the ids the pages need."""
    from portal.auth.models import User
    from portal.duties.models import Duty, DutyReviewRecord, DutyStatus
    from portal.extensions import db
    from portal.meetings.models import DepartmentReport, Meeting, MinutesComment
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    with app.app_context():
        tid = db.session.execute(sa.select(Tenant.id).filter_by(slug="kaifeng")).scalar_one()
        with scope.cross_tenant("time test"):
            tenant = db.session.get(Tenant, tid)
            tenant.status_changed_at = INSTANT
            for user in db.session.execute(sa.select(User).filter_by(tenant_id=tid)).scalars():
                user.last_login_at = INSTANT
            db.session.commit()
        with scope.tenant_scope(tid):
            duty = db.session.execute(
                sa.select(Duty).where(Duty.status == DutyStatus.accepted).limit(1)
            ).scalar_one()
            duty.submitted_at = INSTANT
            duty.reviewed_at = INSTANT
            for record in db.session.execute(
                sa.select(DutyReviewRecord).filter_by(duty_id=duty.id)
            ).scalars():
                record.at = INSTANT
            report = (
                db.session.execute(
                    sa.select(DepartmentReport).where(DepartmentReport.submitted_at.is_not(None))
                )
                .scalars()
                .first()
            )
            report.submitted_at = INSTANT
            meeting = db.session.get(Meeting, (tid, report.meeting_id))
            db.session.add(
                MinutesComment(
                    meeting_id=meeting.id,
                    department_id=report.department_id,
                    body="时间测试",
                    created_at=INSTANT,
                )
            )
            ids = {
                "duty": str(duty.id),
                "duty_department": str(duty.department_id),
                "meeting": str(meeting.id),
                "report_department": str(report.department_id),
            }
            db.session.commit()
        return ids


def _check(page: str, url: str, *, day_only: bool = False) -> None:
    body = page.split("<main", 1)[-1]
    assert "UTC" not in body, url
    assert (BEIJING_DAY if day_only else BEIJING) in body, url
    for raw in STORED:
        assert raw not in body, (url, raw)


def test_every_page_that_shows_a_time_shows_beijing_time(fresh_app) -> None:  # type: ignore[no-untyped-def]
    ids = _stamp(fresh_app)
    lead = Browser(fresh_app)
    lead.login("kaifeng-lead")
    lead.post("/account/tokens", {"name": "时间"}, csrf_from="/account/tokens")
    from portal.auth.models import ApiToken
    from portal.extensions import db

    with fresh_app.app_context():
        for token in db.session.execute(sa.select(ApiToken)).scalars():
            token.created_at = INSTANT
        db.session.commit()
    pages = {
        "lead": (
            lead,
            [
                f"/t/kaifeng/duties/{ids['duty']}",
                "/t/kaifeng/users",
                f"/t/kaifeng/meetings/{ids['meeting']}/reports/{ids['report_department']}",
                f"/t/kaifeng/meetings/{ids['meeting']}",
                "/account/tokens",
                "/t/kaifeng/audit/",
            ],
        ),
    }
    auditor = Browser(fresh_app)
    auditor.login("kaifeng-auditor")
    pages["auditor"] = (auditor, [f"/t/kaifeng/duties/{ids['duty']}", "/t/kaifeng/audit/"])
    operator = Browser(fresh_app)
    operator.login("operator")
    pages["operator"] = (operator, ["/platform/tenants/kaifeng"])
    for role, (browser, urls) in pages.items():
        for url in urls:
            r = browser.get(url)
            assert r.status_code == 200, (role, url)
            _check(r.get_data(as_text=True), f"{role} {url}")
    # the officer of the duty's department: its detail page and their report page
    from portal.auth.models import Role, User

    with fresh_app.app_context():
        officer = (
            db.session.execute(
                sa.select(User.username).where(
                    User.role == Role.dept_officer,
                    User.department_id == uuid.UUID(ids["duty_department"]),
                )
            )
            .scalars()
            .first()
        )
    b = Browser(fresh_app)
    b.login(officer)
    _check(b.get(f"/t/kaifeng/duties/{ids['duty']}").get_data(as_text=True), "officer duty")
    # the dates of times are the local day too (the review queue, the console)
    r = operator.get("/platform/")
    assert "UTC" not in r.get_data(as_text=True)


def test_the_filters_and_their_english_format(app) -> None:  # type: ignore[no-untyped-def]
    from flask import render_template_string
    from flask_babel import force_locale

    with app.test_request_context():
        with force_locale("zh_Hans_CN"):
            text = render_template_string(
                "{{ t|datetime }}|{{ t|localtime }}|{{ t|date }}|{{ d|date }}|{{ none|datetime }}",
                t=INSTANT,
                d=dt.date(2027, 1, 2),
                none=None,
            )
        assert text == f"{BEIJING}|{BEIJING}|{BEIJING_DAY}|2027年1月2日|"
    with app.test_request_context(headers={"Accept-Language": "en"}), force_locale("en"):
        assert render_template_string("{{ t|datetime }}", t=INSTANT) == "6 Dec 2026, 07:37"
    with app.test_request_context():
        # aware values and ISO strings (as audit change data holds them) alike
        aware = INSTANT.replace(tzinfo=dt.UTC)
        assert render_template_string("{{ t|datetime }}", t=aware) == BEIJING
        assert render_template_string("{{ t|datetime }}", t="2026-12-05T23:37:00") == BEIJING
