"""Meeting findings of the red-team and fault pass (issue 19).

Numbers safe under concurrency; a double-submitted create form creates once; no GET
writes; meeting materials shared by department scope; the stale-version check required
on every edit; a version conflict keeps the input.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import threading
import uuid

import pytest
import sqlalchemy as sa

from tests.conftest import BACKEND, Browser
from tests.meetings.helpers import acting_as, form_version, new_meeting

POSTGRES = BACKEND in ("postgres", "postgresql")


def _count(app, model_name: str, **where: object) -> int:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.meetings import models

    model = getattr(models, model_name)
    with acting_as(app, "kaifeng-lead"):
        q = sa.select(sa.func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return db.session.execute(q).scalar_one()


def test_double_submitted_create_forms_create_once(fresh_app) -> None:  # type: ignore[no-untyped-def]
    lead = Browser(fresh_app)
    lead.login("kaifeng-lead")
    page = lead.get("/t/kaifeng/meetings/new").get_data(as_text=True)
    key = re.search(r'name="request_key" value="([0-9a-f]+)"', page).group(1)
    before = _count(fresh_app, "Meeting")
    form = {"kind": "ad_hoc", "meeting_date": "2027-02-01", "title": "双击测试", "request_key": key}
    first = lead.post("/t/kaifeng/meetings/new", form)
    second = lead.post("/t/kaifeng/meetings/new", form)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"].split("#")[0] == second.headers["Location"].split("#")[0]
    assert _count(fresh_app, "Meeting") == before + 1
    url = first.headers["Location"].split("#")[0]
    page = lead.get(url).get_data(as_text=True)
    key = re.search(r'name="request_key" value="([0-9a-f]+)"', page).group(1)
    decision = {"decision": "只记录一次的议定事项", "request_key": key}
    assert lead.post(f"{url}/decisions", decision, csrf_from=url).status_code == 302
    assert lead.post(f"{url}/decisions", decision, csrf_from=url).status_code == 302
    meeting_id = uuid.UUID(url.rsplit("/", 1)[1])
    assert _count(fresh_app, "Decision", meeting_id=meeting_id) == 1


@pytest.mark.skipif(not POSTGRES, reason="row locks and unique checks across connections")
def test_concurrent_meetings_and_decisions_get_distinct_numbers(fresh_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Two leads create at the same moment: both computed the same "highest + 1"; the
    second insert waits for the first, is refused, and retries with the next number."""
    from portal.extensions import db
    from portal.meetings import arrangement, decisions, queries

    barrier = threading.Barrier(2, timeout=20)
    real_next = arrangement.next_sequence
    real_renumber = decisions._renumber
    seen: set[int] = set()

    def racing_next(year: int) -> int:
        n = real_next(year)
        if threading.get_ident() not in seen:  # only the first try of each thread races
            seen.add(threading.get_ident())
            barrier.wait()
        return n

    def racing_renumber(decision) -> None:  # type: ignore[no-untyped-def]
        real_renumber(decision)
        if threading.get_ident() not in seen:
            seen.add(threading.get_ident())
            barrier.wait()

    monkeypatch.setattr(arrangement, "next_sequence", racing_next)
    monkeypatch.setattr(decisions, "_renumber", racing_renumber)
    results: dict[str, object] = {}

    def create(name: str) -> None:
        try:
            with acting_as(fresh_app, "kaifeng-lead") as lead:
                m = arrangement.create_meeting(
                    lead,
                    arrangement.MeetingInput(kind="ad_hoc", meeting_date="2027-03-03"),
                    draft=False,
                )
                db.session.commit()
                results[name] = m.sequence
        except Exception as e:  # noqa: BLE001 - reported by the assertion below
            results[name] = e

    threads = [threading.Thread(target=create, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(isinstance(v, int) for v in results.values()), results
    assert len(set(results.values())) == 2

    seen.add(threading.get_ident())  # the set-up below does not race
    with acting_as(fresh_app, "kaifeng-lead") as lead:
        meeting = arrangement.create_meeting(
            lead, arrangement.MeetingInput(kind="ad_hoc", meeting_date="2027-03-04"), draft=False
        )
        db.session.commit()
        meeting_id = meeting.id
    seen.clear()
    barrier.reset()

    def decide(name: str) -> None:
        try:
            with acting_as(fresh_app, "kaifeng-lead") as lead:
                d = decisions.add_decision(lead, queries.get_meeting(meeting_id), f"同时议定{name}")
                db.session.commit()
                results[name] = d.number
        except Exception as e:  # noqa: BLE001
            results[name] = e

    results.clear()
    threads = [threading.Thread(target=decide, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results.values()) == [1, 2], results  # type: ignore[type-var]


def test_report_page_get_writes_nothing(fresh_app) -> None:  # type: ignore[no-untyped-def]
    lead = Browser(fresh_app)
    lead.login("kaifeng-lead")
    url = new_meeting(lead, "2027-01-20", "regular", period="2026H2")
    meeting_id = uuid.UUID(url.rsplit("/", 1)[1])
    officer = Browser(fresh_app)
    officer.login("kaifeng-civil-affairs")
    page = officer.get(f"{url}/report").get_data(as_text=True)
    assert "2026年下半年职责落实情况" in page and 'name="row_version" value="0"' in page
    assert _count(fresh_app, "DepartmentReport", meeting_id=meeting_id) == 0
    r = officer.post(
        f"{url}/report",
        {"op": "save", "body": "草稿", "families_reached": "1", "amount_paid": "0"}
        | {"row_version": "0"},
    )
    assert r.status_code == 302
    assert _count(fresh_app, "DepartmentReport", meeting_id=meeting_id) == 1
    # a second version-0 form (another tab) meets a conflict, its input kept
    r = officer.post(
        f"{url}/report",
        {"op": "save", "body": "另一个标签页", "families_reached": "2", "row_version": "0"},
    )
    assert r.status_code == 409 and "另一个标签页" in r.get_data(as_text=True)


def test_ad_hoc_agenda_shared_by_department_scope(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.duties.models import Duty, DutyStatus
    from portal.extensions import db
    from portal.meetings import queries

    with acting_as(fresh_app, "kaifeng-lead"):
        depts = {d.kind_code: d for d in queries.departments()}
        # a returned duty of a department that is not invited, with the lead's comment
        finance = depts["finance"]
        duty = db.session.execute(
            sa.select(Duty).where(Duty.department_id == finance.id).limit(1)
        ).scalar_one()
        duty.status = DutyStatus.returned
        duty.review_note = "请补充发放台账的内部审核意见"
        db.session.commit()
        invited = [depts["civil_affairs"], depts["medical_insurance"]]
        names = {d.name for d in queries.departments()} - {d.name for d in invited}
        invited_ids = [str(d.id) for d in invited]
    lead = Browser(fresh_app)
    lead.login("kaifeng-lead")
    url = new_meeting(
        lead, (dt.date.today() + dt.timedelta(days=10)).isoformat(), departments=invited_ids
    )
    lead_page = lead.get(url).get_data(as_text=True)
    agenda = lead_page[lead_page.index('id="agenda"') : lead_page.index('id="attendance"')]
    assert "请补充发放台账" not in agenda and "退回意见" not in agenda
    for name in names:  # departments not invited appear only as counts
        assert f"{name}：" not in agenda, name
    assert "其他单位" in agenda
    officer = Browser(fresh_app)
    officer.login("kaifeng-civil-affairs")
    page = officer.get(url).get_data(as_text=True)
    assert 'id="agenda-not-circulated"' in page and 'id="agenda-list"' not in page
    lead.post(f"{url}/agenda", {"op": "circulate"}, csrf_from=url)
    page = officer.get(url).get_data(as_text=True)
    assert 'id="agenda-list"' in page and "请补充发放台账" not in page
    # the prep pack (shared material) names only the invited departments too
    from docx import Document

    pack = Document(io.BytesIO(lead.get(f"{url}/export/prep-pack.docx").data))
    cells = [c.text for t in pack.tables for row in t.rows for c in row.cells]
    text = "\n".join([p.text for p in pack.paragraphs] + cells)
    assert "其他单位（" in text and "请补充发放台账" not in text
    assert not names & set(cells)


def test_meeting_edit_requires_version_and_keeps_input_on_conflict(fresh_app) -> None:  # type: ignore[no-untyped-def]
    lead = Browser(fresh_app)
    lead.login("kaifeng-lead")
    url = new_meeting(lead, "2027-02-02")
    version = form_version(lead, url, "edit-meeting")
    form = {
        "kind": "ad_hoc",
        "title": "我刚输入的新标题",
        "meeting_date": "2027-02-02",
        "place": "五楼会议室",
    }
    r = lead.post(f"{url}/edit", form, csrf_from=url)  # no row_version at all
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "版本" in page and 'value="五楼会议室"' in page
    r = lead.post(f"{url}/edit", form | {"row_version": version}, csrf_from=url)
    assert r.status_code == 302
    r = lead.post(f"{url}/edit", form | {"place": "六楼", "row_version": version}, csrf_from=url)
    page = r.get_data(as_text=True)
    assert r.status_code == 409 and 'value="六楼"' in page and 'id="edit-meeting-errors"' in page
