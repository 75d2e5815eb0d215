"""Joint meetings (issue 6): demo, schedule, agenda, reports, minutes lifecycle, scoping."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.meetings.helpers import acting_as


def test_demo_has_a_past_regular_meeting_with_mixed_action_items(app) -> None:  # type: ignore[no-untyped-def]
    from portal.meetings import services
    from portal.meetings.models import MeetingKind, MinutesStatus

    for slug in ("zhangdian", "jiangyan", "jiading", "kaifeng"):
        with acting_as(app, f"{slug}-lead"):
            from portal.extensions import db

            rows = db.session.execute(services.meetings_query(kind="regular")).scalars().all()
            assert len(rows) == 1
            assert len(db.session.execute(services.meetings_query()).scalars().all()) == 2
            m = rows[0]
            assert m.kind == MeetingKind.regular and m.meeting_date < services.today()
            assert services.minutes_of(m).status == MinutesStatus.finalised
            states = {s.state for s in services.decision_states(m)}
            assert {"done", "open", "overdue"} <= states, states
            sched = services.schedule()
            assert sched.last_regular is not None and sched.last_regular.id == m.id
            if sched.cadence != "ad_hoc":
                assert sched.next_due == services.add_months(m.meeting_date, 6)


def test_schedule_warns_when_last_regular_meeting_is_old(app) -> None:  # type: ignore[no-untyped-def]
    from portal.meetings import services

    with acting_as(app, "kaifeng-lead"):
        last = services.schedule().last_regular
        assert not services.schedule(on=last.meeting_date + dt.timedelta(days=30)).stale
        assert services.schedule(on=services.add_months(last.meeting_date, 7)).stale


def test_officer_sees_only_own_department_reports_and_action_items(app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.meetings.models import ActionItem, DepartmentReport, Meeting, MeetingInvitation

    with acting_as(app, "kaifeng-civil-affairs") as officer:
        reports = db.session.execute(sa.select(DepartmentReport)).scalars().all()
        assert reports and {r.department_id for r in reports} == {officer.department_id}
        items = db.session.execute(sa.select(ActionItem)).unique().scalars().all()
        assert items and {i.department_id for i in items} == {officer.department_id}
        invs = db.session.execute(sa.select(MeetingInvitation)).unique().scalars().all()
        assert {i.department_id for i in invs} == {officer.department_id}
        assert len(db.session.execute(sa.select(Meeting)).scalars().all()) == 1
    with acting_as(app, "kaifeng-lead"):
        all_reports = db.session.execute(sa.select(DepartmentReport)).scalars().all()
        assert len({r.department_id for r in all_reports}) > 1


def test_meetings_of_uninvited_department_are_invisible(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.meetings import services
    from portal.meetings.models import Decision, Meeting

    with acting_as(fresh_app, "kaifeng-lead") as lead:
        depts = services.departments()
        civil = next(d for d in depts if d.key == "civil_affairs")
        other = next(d for d in depts if d.key == "finance")
        m = services.create_meeting(
            lead,
            services.MeetingInput(
                kind="ad_hoc", meeting_date="2026-12-10", department_ids=[str(other.id)]
            ),
        )
        services.add_decision(lead, m, "专题研究事项")
        db.session.commit()
        meeting_id = m.id
        assert civil.id != other.id
    with acting_as(fresh_app, "kaifeng-civil-affairs"):
        assert services.get_meeting(meeting_id) is None
        assert (
            db.session.execute(sa.select(Decision).where(Decision.meeting_id == meeting_id)).first()
            is None
        )
    with acting_as(fresh_app, "kaifeng-finance"):
        assert services.get_meeting(meeting_id) is not None
    with acting_as(fresh_app, "jiading-lead"):
        assert services.get_meeting(meeting_id) is None
        assert db.session.execute(sa.select(Meeting)).scalars().all()[0].tenant_id != m.tenant_id


def test_next_meeting_agenda_from_live_data(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.duties.models import Duty, DutyStatus
    from portal.extensions import db
    from portal.meetings import services

    with acting_as(fresh_app, "kaifeng-lead") as lead:
        prev = services.schedule().last_regular
        period = services.shift_period(prev.period, 1)
        day = services.add_months(prev.meeting_date, 6)
        unsigned = db.session.execute(
            sa.select(sa.func.count(Duty.id)).where(
                Duty.period <= period,
                Duty.status.not_in([DutyStatus.submitted, DutyStatus.accepted]),
                Duty.due_date < day,
            )
        ).scalar_one()
        m = services.create_meeting(
            lead, services.MeetingInput(kind="regular", period=period, meeting_date=day)
        )
        items = services.agenda(m)
        assert items[0].source == "confirm_minutes" and prev.number in items[0].title
        sources = [i.source for i in items]
        assert "period_status" in sources and "action_items" in sources
        action = next(i for i in items if i.source == "action_items")
        assert "逾期" in action.title
        if unsigned:
            overdue = next(i for i in items if i.source == "overdue_duties")
            assert f"{unsigned}项" in overdue.title
        # the lead reorders and edits
        last = items[-1]
        services.move_agenda_item(lead, m, last.id, "up")
        assert services.agenda(m)[-2].id == last.id
        services.update_agenda_item(lead, m, last.id, "研究部署2027年重点工作", "")
        assert services.agenda(m)[-2].title == "研究部署2027年重点工作"
        n = len(services.agenda(m))
        services.delete_agenda_item(lead, m, last.id)
        assert [i.position for i in services.agenda(m)] == list(range(1, n))
        assert m.number == f"{day.year}年第{m.sequence}次"


def test_minutes_lifecycle_and_audited_reopen(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.meetings import services
    from portal.meetings.models import MinutesStatus

    with acting_as(fresh_app, "jiangyan-lead") as lead:
        m = services.create_meeting(
            lead, services.MeetingInput(kind="ad_hoc", meeting_date="2026-12-01")
        )
        with pytest.raises(services.MeetingError):
            services.circulate_minutes(lead, m)  # empty
        services.save_minutes(lead, m, "会议研究了<script>alert(1)</script>**重点工作**。")
        html = services.render_markdown(services.minutes_of(m).body)
        assert "<script" not in html and "<strong>重点工作</strong>" in html
        services.circulate_minutes(lead, m)
        assert services.minutes_of(m).status == MinutesStatus.circulated
        services.finalise_minutes(lead, m)
        with pytest.raises(services.MeetingError):
            services.save_minutes(lead, m, "改动")
        with pytest.raises(services.MeetingError):
            services.add_decision(lead, m, "新增事项")
        with pytest.raises(services.MeetingError) as e:
            services.reopen_minutes(lead, m, "")
        assert e.value.field == "reason"
        services.reopen_minutes(lead, m, "补充会议议定事项第三条")
        db.session.commit()
        minutes = services.minutes_of(m)
        assert minutes.status == MinutesStatus.draft and minutes.reopen_count == 1
        event = db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action == "minutes_reopened")
        ).scalar_one()
        assert "补充会议议定事项第三条" in event.summary and event.actor_name == "jiangyan-lead"


def test_officer_report_drafted_submitted_and_action_item_closed(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.meetings import services
    from portal.meetings.models import ActionStatus, ReportStatus

    with acting_as(fresh_app, "kaifeng-lead") as lead:
        m = services.create_meeting(
            lead, services.MeetingInput(kind="regular", period="2026H2", meeting_date="2027-01-15")
        )
        db.session.commit()
        meeting_id = m.id
    with acting_as(fresh_app, "kaifeng-civil-affairs") as officer:
        m = services.get_meeting(meeting_id)
        report = services.report_for(officer, m, officer.department_id)
        assert "2026H2" in report.body
        with pytest.raises(services.MeetingError) as e:
            services.save_report(
                officer,
                report,
                services.ReportInput(body="x", families_reached="-3"),
                submit=True,
                expected_version=report.row_version,
            )
        assert e.value.field == "families_reached"
        db.session.rollback()
        report = services.report_for(officer, m, officer.department_id)
        services.save_report(
            officer,
            report,
            services.ReportInput(body="本期工作情况", families_reached=12, amount_paid="3400.5"),
            submit=True,
            expected_version=report.row_version,
        )
        assert report.status == ReportStatus.submitted
        with pytest.raises(services.ConflictError):
            services.save_report(officer, report, services.ReportInput(body="y"), False, 0)
        items = db.session.execute(services.action_items_query(status="open")).unique().scalars()
        item = next(iter(items))
        with pytest.raises(services.MeetingError):
            services.update_action_item(officer, item, "", close=True)
        services.update_action_item(officer, item, "已完成专题报告", close=True)
        assert item.status == ActionStatus.done
        db.session.commit()
    with acting_as(fresh_app, "kaifeng-lead"):
        tracking = services.report_tracking(services.get_meeting(meeting_id))
        submitted = [t for t in tracking if t.submitted]
        assert len(submitted) == 1 and submitted[0].report.families_reached == 12


def test_auditor_cannot_change_meetings(app) -> None:  # type: ignore[no-untyped-def]
    from portal.meetings import services

    with acting_as(app, "kaifeng-auditor") as auditor:
        m = services.schedule().last_regular
        with pytest.raises(services.NotAllowed):
            services.save_minutes(auditor, m, "x")
