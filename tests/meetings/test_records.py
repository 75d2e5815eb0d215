"""Records that stand and forms that keep what was typed (issue 13, meetings).

A held meeting's agenda is not drafted again; finalised minutes lock the agenda,
attendance, reports and decisions until an audited reopen; attendance is recorded from
the meeting's day and never changes the meeting's state; a form with an error is shown
again with every value typed, the message beside its field (not repeating the label)
and a summary at the top of that form; a multi-row form saves all rows or none.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid

import pytest
import sqlalchemy as sa

from tests.conftest import Browser
from tests.meetings.helpers import acting_as, new_meeting


def _new_meeting(b: Browser, day: str, kind: str = "ad_hoc", **extra: str) -> str:
    return new_meeting(b, day, kind, title="测试会议", **extra)


def _invitations(app, url: str) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.meetings.models import MeetingInvitation

    meeting_id = uuid.UUID(url.rstrip("/").rsplit("/", 1)[1])
    with acting_as(app, "kaifeng-lead"):
        rows = db.session.execute(
            sa.select(MeetingInvitation).where(MeetingInvitation.meeting_id == meeting_id)
        ).scalars()
        return sorted(
            (str(i.department_id), i.attendance.value, i.delegate_name) for i in rows.unique()
        )


def test_attendance_error_keeps_every_choice_and_saves_nothing(fresh_app) -> None:  # type: ignore[no-untyped-def]
    lead = Browser(fresh_app)
    lead.login("kaifeng-lead")
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    url = _new_meeting(lead, yesterday)
    before = _invitations(fresh_app, url)
    depts = [d for d, _a, _n in before]
    assert len(depts) > 3
    form = {f"attendance-{d}": "present" for d in depts}
    form[f"attendance-{depts[1]}"] = "absent"
    form[f"attendance-{depts[2]}"] = "delegate"  # no delegate name: the one error
    r = lead.post(f"{url}/attendance", form, csrf_from=url)
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    assert _invitations(fresh_app, url) == before  # nothing saved
    # every choice is still there, the message stands beside the row, a summary on top
    for d in depts:
        chosen = form[f"attendance-{d}"]
        assert re.search(
            rf'name="attendance-{d}"[^>]*>.*?<option value="{chosen}" selected', page, re.S
        ), d
    assert 'id="attendance-errors"' in page and "请填写代为出席人员的姓名" in page
    assert 'action="' + url + '/attendance#attendance-form"' in page
    # fixing it saves every row at once
    form[f"delegate-{depts[2]}"] = "李副局长"
    r = lead.post(f"{url}/attendance", form, csrf_from=url)
    assert r.status_code == 302
    after = {d: (a, n) for d, a, n in _invitations(fresh_app, url)}
    assert after[depts[0]] == ("present", "") and after[depts[1]] == ("absent", "")
    assert after[depts[2]] == ("delegate", "李副局长")


def test_attendance_only_from_the_meeting_day_and_never_changes_state(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.meetings import arrangement, queries, rules

    with acting_as(fresh_app, "kaifeng-lead") as lead:
        ahead = dt.date.today() + dt.timedelta(days=40)
        m = arrangement.create_meeting(
            lead, arrangement.MeetingInput(kind="ad_hoc", meeting_date=ahead)
        )
        marks = {str(i.department_id): ("present", "") for i in queries.invitations(m)}
        with pytest.raises(rules.MeetingError) as e:
            arrangement.record_attendance(lead, m, marks)
        assert "会议当天" in str(e.value.message) or "day of the meeting" in str(e.value.message)
        with pytest.raises(rules.MeetingError):
            arrangement.set_status(lead, m, "held", m.row_version)
        past = arrangement.create_meeting(
            lead,
            arrangement.MeetingInput(
                kind="ad_hoc", meeting_date=dt.date.today() - dt.timedelta(days=2)
            ),
        )
        marks = {str(i.department_id): ("present", "") for i in queries.invitations(past)}
        arrangement.record_attendance(lead, past, marks)
        assert past.status.value == "planned"  # the lead's act, not a side effect


def test_held_meeting_agenda_is_not_drafted_again(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.meetings import agenda, queries, rules

    with acting_as(fresh_app, "kaifeng-lead") as lead:
        held = queries.schedule().last_regular
        titles = [i.title for i in queries.agenda(held)]
        with pytest.raises(rules.MeetingError):
            agenda.redraft_agenda(lead, held)
        assert [i.title for i in queries.agenda(held)] == titles


def test_finalised_minutes_lock_the_record_until_an_audited_reopen(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.meetings import agenda, arrangement, decisions, minutes, queries, reports, rules
    from portal.meetings.models import ReportStatus

    with acting_as(fresh_app, "kaifeng-lead") as lead:
        m = queries.schedule().last_regular
        assert queries.minutes_of(m).locked
        marks = {str(i.department_id): ("absent", "") for i in queries.invitations(m)}
        with pytest.raises(rules.MeetingError):
            arrangement.record_attendance(lead, m, marks)
        with pytest.raises(rules.MeetingError):
            decisions.add_decision(lead, m, "定稿后追加的事项")
        with pytest.raises(rules.MeetingError):
            agenda.add_agenda_item(lead, m, "定稿后追加的议题")
        submitted = next(t.report for t in queries.report_tracking(m) if t.submitted)
        with pytest.raises(rules.MeetingError):
            reports.reopen_report(lead, submitted)
        assert submitted.status == ReportStatus.submitted
        minutes.reopen_minutes(lead, m, "补充出席情况", queries.minutes_of(m).row_version)
        arrangement.record_attendance(lead, m, marks)
        db.session.commit()
    page = Browser(fresh_app)
    page.login("kaifeng-lead")
    url = f"/t/kaifeng/meetings/{m.id}"
    assert 'id="attendance-form"' in page.get(url).get_data(as_text=True)


def test_locked_meeting_page_offers_no_edits(login_as) -> None:  # type: ignore[no-untyped-def]
    lead = login_as("kaifeng-lead")
    page = lead.get("/t/kaifeng/meetings/?kind=regular").get_data(as_text=True)
    mid = re.findall(r"/t/kaifeng/meetings/([0-9a-f-]{36})", page)[0]
    page = lead.get(f"/t/kaifeng/meetings/{mid}").get_data(as_text=True)
    assert 'id="record-locked"' in page and 'id="reopen-form"' in page
    for form in ("attendance-form", "decision-form", "add-agenda-item", "invite-form"):
        assert f'id="{form}"' not in page
    assert 'value="redraft"' not in page


def test_decision_error_keeps_text_beside_the_field(fresh_app) -> None:  # type: ignore[no-untyped-def]
    lead = Browser(fresh_app)
    lead.login("kaifeng-lead")
    url = _new_meeting(lead, (dt.date.today() + dt.timedelta(days=5)).isoformat())
    r = lead.post(
        f"{url}/decisions",
        {"decision": "各单位按季度报送台账", "action_text": "报送台账", "departments": []},
        csrf_from=url,
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "各单位按季度报送台账</textarea>" in page and 'value="报送台账"' in page
    assert 'id="decision-errors"' in page and "请选择日期" in page
    # the message does not repeat the label
    assert "完成时限：完成时限" not in page and "Due date: Due date" not in page


def test_new_meeting_form_marks_required_and_chooses_periods_by_label(fresh_app) -> None:  # type: ignore[no-untyped-def]
    lead = Browser(fresh_app)
    lead.login("kaifeng-lead")
    page = lead.get("/t/kaifeng/meetings/new").get_data(as_text=True)
    assert 'class="required-mark"' in page
    assert re.search(r'<select id="period" name="period">', page)
    assert re.search(r'<option value="\d{4}H[12]"[^>]*>\d{4}年[上下]半年</option>', page)
    assert not re.search(r">[^<]*\d{4}H[12][^<]*<", page)  # codes never shown as text
    r = lead.post(
        "/t/kaifeng/meetings/new",
        {"kind": "regular", "period": "", "meeting_date": "2027-01-10", "place": "三楼会议室"},
    )
    page = r.get_data(as_text=True)
    assert (
        r.status_code == 400 and 'value="三楼会议室"' in page and 'id="new-meeting-errors"' in page
    )


def test_measure_numbers_in_natural_order() -> None:
    from portal.meetings.rules import natural_key

    numbers = ["10", "12", "17", "4", "5", "2", "21", "19"]
    assert sorted(numbers, key=natural_key) == ["2", "4", "5", "10", "12", "17", "19", "21"]
    zh = ["十", "二", "十二", "一", "四"]
    assert sorted(zh, key=natural_key) == ["一", "二", "四", "十", "十二"]
    assert sorted(["4.10", "4.2", "（三）", "（一）"], key=natural_key)[:2] == ["4.2", "4.10"]


def test_drafted_report_keeps_its_lists_and_no_review_comments(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.meetings import queries, reports

    with acting_as(fresh_app, "kaifeng-civil-affairs") as officer:
        m = queries.schedule().last_regular or queries.get_meeting(
            next(iter(queries.pending_invitations())).meeting_id
        )
        draft = reports.draft_report(m, officer.department_id)
        html = queries.render_markdown(draft.body)
        assert "<li>" in html  # the progress entries stay a list
        numbers = re.findall(r"^### (\S+)", draft.body, re.M)
        from portal.meetings.rules import natural_key

        assert numbers == sorted(numbers, key=natural_key)
        assert "退回意见" not in draft.body + draft.not_delivered


def test_docx_exports_are_a4(login_as) -> None:  # type: ignore[no-untyped-def]
    from docx import Document
    from docx.shared import Mm

    lead = login_as("kaifeng-lead")
    page = lead.get("/t/kaifeng/meetings/?kind=regular").get_data(as_text=True)
    mid = re.findall(r"/t/kaifeng/meetings/([0-9a-f-]{36})", page)[0]
    for kind in ("minutes", "prep-pack"):
        data = lead.get(f"/t/kaifeng/meetings/{mid}/export/{kind}.docx").data
        section = Document(io.BytesIO(data)).sections[0]
        assert abs(section.page_width - Mm(210)) < Mm(1), kind
        assert abs(section.page_height - Mm(297)) < Mm(1), kind


def test_meeting_times_shown_in_the_district_zone(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.meetings.models import MinutesComment

    lead = Browser(fresh_app)
    lead.login("kaifeng-lead")
    page = lead.get("/t/kaifeng/meetings/?kind=regular").get_data(as_text=True)
    mid = re.findall(r"/t/kaifeng/meetings/([0-9a-f-]{36})", page)[0]
    with acting_as(fresh_app, "kaifeng-civil-affairs") as officer:
        db.session.add(
            MinutesComment(
                meeting_id=uuid.UUID(mid),
                department_id=officer.department_id,
                author_id=officer.id,
                body="时区测试意见",
                created_at=dt.datetime(2026, 12, 5, 23, 37),  # stored UTC
            )
        )
        db.session.commit()
    page = lead.get(f"/t/kaifeng/meetings/{mid}").get_data(as_text=True)
    assert "2026年12月6日 07:37" in page and "23:37" not in page and "UTC" not in page


def test_all_present_and_attendee_names(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """全部出席 marks every invited department present in one click (keeping the names
    typed); attendee names are kept per department, 、-separated, shown on the page."""
    from portal.extensions import db
    from portal.meetings.models import MeetingInvitation

    lead = Browser(fresh_app)
    lead.login("kaifeng-lead")
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    url = _new_meeting(lead, yesterday)
    depts = [d for d, _a, _n in _invitations(fresh_app, url)]
    page = lead.get(url).get_data(as_text=True)
    assert 'id="all-present"' in page and "全部出席" in page
    form = {f"attendance-{d}": "absent" for d in depts}
    form[f"attendees-{depts[0]}"] = "张三，李四; 王五"
    form["all_present"] = "1"
    r = lead.post(f"{url}/attendance", form, csrf_from=url)
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    assert {a for _d, a, _n in _invitations(fresh_app, url)} == {"present"}
    meeting_id = uuid.UUID(url.rstrip("/").rsplit("/", 1)[1])
    with acting_as(fresh_app, "kaifeng-lead"):
        names = dict(
            db.session.execute(
                sa.select(MeetingInvitation.department_id, MeetingInvitation.attendees).where(
                    MeetingInvitation.meeting_id == meeting_id
                )
            ).all()
        )
    assert names[uuid.UUID(depts[0])] == "张三、李四、王五"
    assert "张三、李四、王五" in lead.get(url).get_data(as_text=True)
    # names go with present or delegate only: an absent department with names is refused
    form = {f"attendance-{d}": "present" for d in depts}
    form[f"attendance-{depts[1]}"] = "absent"
    form[f"attendees-{depts[1]}"] = "赵六"
    r = lead.post(f"{url}/attendance", form, csrf_from=url)
    assert r.status_code == 400
    assert "赵六" in r.get_data(as_text=True)  # kept in the field
