"""Joint meetings (issue 6): demo, schedule, agenda, reports, minutes lifecycle, scoping."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.meetings.helpers import acting_as


def _v(m):  # type: ignore[no-untyped-def]
    """The minutes' current row_version (every write carries the version it was shown)."""
    from portal.meetings import queries

    return queries.minutes_of(m).row_version


def test_demo_has_a_past_regular_meeting_with_mixed_action_items(app) -> None:  # type: ignore[no-untyped-def]
    # Only as the documents set meetings up (issue 14): 嘉定 has no joint meeting; 张店's is
    # called as needed (no regular one); only 开封 provides for ad hoc meetings besides.
    from portal.extensions import db
    from portal.kernel import clock
    from portal.meetings import queries
    from portal.meetings.models import MeetingKind, MinutesStatus

    with acting_as(app, "jiading-lead"):
        assert db.session.execute(queries.meetings_query()).scalars().all() == []
        assert not queries.schedule().stale and queries.schedule().next_due is None
    with acting_as(app, "zhangdian-lead"):
        rows = db.session.execute(queries.meetings_query()).scalars().all()
        assert [m.kind for m in rows] == [MeetingKind.ad_hoc]
        assert queries.minutes_of(rows[0]).status == MinutesStatus.finalised
        assert not queries.schedule().stale and queries.schedule().next_due is None
    for slug, total in (("jiangyan", 1), ("kaifeng", 2)):
        with acting_as(app, f"{slug}-lead"):
            rows = db.session.execute(queries.meetings_query(kind="regular")).scalars().all()
            assert len(rows) == 1
            assert len(db.session.execute(queries.meetings_query()).scalars().all()) == total
            m = rows[0]
            assert m.kind == MeetingKind.regular and m.meeting_date < clock.today()
            assert queries.minutes_of(m).status == MinutesStatus.finalised
            states = {s.state for s in queries.decision_states(m)}
            assert {"done", "open", "overdue"} <= states, states
            sched = queries.schedule()
            assert sched.last_regular is not None and sched.last_regular.id == m.id
            if sched.cadence == "semiannual":  # 开封; 姜堰 states no cadence: nothing is due
                assert sched.next_due == queries.add_months(m.meeting_date, 6)
            else:
                assert sched.next_due is None and not sched.stale


def test_schedule_warns_when_last_regular_meeting_is_old(app) -> None:  # type: ignore[no-untyped-def]
    from portal.meetings import queries

    with acting_as(app, "kaifeng-lead"):
        last = queries.schedule().last_regular
        assert not queries.schedule(on=last.meeting_date + dt.timedelta(days=30)).stale
        assert queries.schedule(on=queries.add_months(last.meeting_date, 7)).stale


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
    from portal.meetings import arrangement, decisions, queries
    from portal.meetings.models import Decision, Meeting

    with acting_as(fresh_app, "kaifeng-lead") as lead:
        depts = queries.departments()
        civil = next(d for d in depts if d.key == "civil_affairs")
        other = next(d for d in depts if d.key == "finance")
        m = arrangement.create_meeting(
            lead,
            arrangement.MeetingInput(
                kind="ad_hoc", meeting_date="2026-12-10", department_ids=[str(other.id)]
            ),
        )
        decisions.add_decision(lead, m, "专题研究事项")
        db.session.commit()
        meeting_id = m.id
        assert civil.id != other.id
    with acting_as(fresh_app, "kaifeng-civil-affairs"):
        assert queries.get_meeting(meeting_id) is None
        assert (
            db.session.execute(sa.select(Decision).where(Decision.meeting_id == meeting_id)).first()
            is None
        )
    with acting_as(fresh_app, "kaifeng-finance"):
        assert queries.get_meeting(meeting_id) is not None
    with acting_as(fresh_app, "jiading-lead"):
        assert queries.get_meeting(meeting_id) is None
        assert all(
            x.tenant_id != m.tenant_id
            for x in db.session.execute(sa.select(Meeting)).scalars().all()
        )


def test_next_meeting_agenda_from_live_data(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.duties.models import Duty, DutyStatus
    from portal.extensions import db
    from portal.kernel.periods import Period
    from portal.meetings import agenda, arrangement, queries

    with acting_as(fresh_app, "kaifeng-lead") as lead:
        prev = queries.schedule().last_regular
        period = Period.parse(prev.period).next.code
        day = queries.add_months(prev.meeting_date, 6)
        unsigned = db.session.execute(
            sa.select(sa.func.count(Duty.id)).where(
                Duty.period <= period,
                Duty.status.not_in([DutyStatus.submitted, DutyStatus.accepted]),
                Duty.due_date < day,
            )
        ).scalar_one()
        m = arrangement.create_meeting(
            lead, arrangement.MeetingInput(kind="regular", period=period, meeting_date=day)
        )
        items = queries.agenda(m)
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
        agenda.move_agenda_item(lead, m, last.id, "up")
        assert queries.agenda(m)[-2].id == last.id
        agenda.update_agenda_item(lead, m, last.id, "研究部署2027年重点工作", "")
        assert queries.agenda(m)[-2].title == "研究部署2027年重点工作"
        n = len(queries.agenda(m))
        agenda.delete_agenda_item(lead, m, last.id)
        assert [i.position for i in queries.agenda(m)] == list(range(1, n))
        assert m.number == f"{day.year}年第{m.sequence}次"


def test_minutes_lifecycle_and_audited_reopen(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.meetings import arrangement, decisions, minutes, queries, rules
    from portal.meetings.models import MinutesStatus

    with acting_as(fresh_app, "jiangyan-lead") as lead:
        m = arrangement.create_meeting(
            lead, arrangement.MeetingInput(kind="ad_hoc", meeting_date="2026-12-01")
        )
        with pytest.raises(rules.MeetingError):
            minutes.circulate_minutes(lead, m, _v(m))  # empty
        minutes.save_minutes(lead, m, "会议研究了<script>alert(1)</script>**重点工作**。", _v(m))
        html = queries.render_markdown(queries.minutes_of(m).body)
        assert "<script" not in html and "<strong>重点工作</strong>" in html
        minutes.circulate_minutes(lead, m, _v(m))
        assert queries.minutes_of(m).status == MinutesStatus.circulated
        minutes.finalise_minutes(lead, m, _v(m))
        with pytest.raises(rules.MeetingError):
            minutes.save_minutes(lead, m, "改动", _v(m))
        with pytest.raises(rules.MeetingError):
            decisions.add_decision(lead, m, "新增事项")
        with pytest.raises(rules.MeetingError) as e:
            minutes.reopen_minutes(lead, m, "", _v(m))
        assert e.value.field == "reason"
        minutes.reopen_minutes(lead, m, "补充会议议定事项第三条", _v(m))
        db.session.commit()
        minutes = queries.minutes_of(m)
        assert minutes.status == MinutesStatus.draft and minutes.reopen_count == 1
        event = db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action == "minutes_reopened")
        ).scalar_one()
        assert "补充会议议定事项第三条" in event.summary and event.actor_name == "jiangyan-lead"


def test_officer_report_drafted_submitted_and_action_item_closed(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.meetings import arrangement, decisions, queries, reports, rules
    from portal.meetings.models import ActionStatus, ReportStatus

    with acting_as(fresh_app, "kaifeng-lead") as lead:
        m = arrangement.create_meeting(
            lead,
            arrangement.MeetingInput(kind="regular", period="2026H2", meeting_date="2027-01-15"),
        )
        db.session.commit()
        meeting_id = m.id
    with acting_as(fresh_app, "kaifeng-civil-affairs") as officer:
        m = queries.get_meeting(meeting_id)
        report = reports.start_report(officer, m, officer.department_id)
        assert report.body.startswith("## 2026年下半年职责落实情况")
        with pytest.raises(rules.MeetingError) as e:
            reports.save_report(
                officer,
                report,
                reports.ReportInput(body="x", families_reached="-3"),
                submit=True,
                expected_version=report.row_version,
            )
        assert e.value.field == "families_reached"
        db.session.rollback()
        report = reports.start_report(officer, m, officer.department_id)
        reports.save_report(
            officer,
            report,
            reports.ReportInput(body="本期工作情况", families_reached=12, amount_paid="3400.5"),
            submit=True,
            expected_version=report.row_version,
        )
        assert report.status == ReportStatus.submitted
        with pytest.raises(rules.ConflictError):
            reports.save_report(officer, report, reports.ReportInput(body="y"), False, 0)
        items = db.session.execute(queries.action_items_query(status="open")).unique().scalars()
        item = next(iter(items))
        with pytest.raises(rules.MeetingError):
            decisions.update_action_item(officer, item, "", True, item.row_version)
        decisions.update_action_item(officer, item, "已完成专题报告", True, item.row_version)
        assert item.status == ActionStatus.done
        db.session.commit()
    with acting_as(fresh_app, "kaifeng-lead"):
        tracking = queries.report_tracking(queries.get_meeting(meeting_id))
        submitted = [t for t in tracking if t.submitted]
        assert len(submitted) == 1 and submitted[0].report.families_reached == 12


def test_auditor_cannot_change_meetings(app) -> None:  # type: ignore[no-untyped-def]
    from portal.meetings import minutes, queries, rules

    with acting_as(app, "kaifeng-auditor") as auditor:
        m = queries.schedule().last_regular
        with pytest.raises(rules.NotAllowed):
            minutes.save_minutes(auditor, m, "x", 1)
