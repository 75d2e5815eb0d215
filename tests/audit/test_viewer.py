"""The audit viewer: who may read what, filters, keyset pages, detail, history, exports."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid

import sqlalchemy as sa

from tests.conftest import Browser, statements


def _ids(app, slug: str):  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.tenancy.models import Tenant

    with app.app_context():
        return db.session.execute(sa.select(Tenant.id).filter_by(slug=slug)).scalar_one()


def _events(app, tid, **where):  # type: ignore[no-untyped-def]
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope

    with app.app_context(), scope.cross_tenant("test"):
        q = sa.select(AuditEvent).where(AuditEvent.tenant_id == tid).order_by(AuditEvent.seq)
        for k, v in where.items():
            q = q.where(getattr(AuditEvent, k) == v)
        rows = db.session.execute(q).scalars().all()
        db.session.expunge_all()
        return rows


def answers_200(b: Browser, *queries: str) -> None:
    """Each query string on the district's trail is answered with a page, never an error."""
    for query in queries:
        assert b.get(f"/t/kaifeng/audit/?{query}").status_code == 200, query


def _seqs(page: str) -> list[int]:
    return [int(s) for s in re.findall(r'<tr data-seq="(\d+)"', page)]


def test_who_may_open_the_trail(app, login_as) -> None:  # type: ignore[no-untyped-def]
    for user in ("kaifeng-lead", "kaifeng-auditor"):
        r = login_as(user).get("/t/kaifeng/audit/")
        assert r.status_code == 200, user
        assert "审计日志" in r.get_data(as_text=True)
    assert login_as("kaifeng-civil-affairs").get("/t/kaifeng/audit/").status_code == 403
    assert login_as("kaifeng-lead").get("/t/jiading/audit/").status_code == 404
    assert login_as("operator").get("/t/kaifeng/audit/").status_code == 404
    assert login_as("kaifeng-lead").get("/platform/audit/").status_code == 403
    assert Browser(app).get("/t/kaifeng/audit/").status_code == 302  # to sign-in


def test_pages_are_newest_first_and_do_not_overlap(app, login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-lead")
    first = b.get("/t/kaifeng/audit/").get_data(as_text=True)
    seqs = _seqs(first)
    assert len(seqs) == 50 and seqs == sorted(seqs, reverse=True)
    older = re.search(r'href="([^"]*before=\d+[^"]*)" rel="next"', first).group(1)
    second = b.get(older.replace("&amp;", "&")).get_data(as_text=True)
    seqs2 = _seqs(second)
    assert seqs2 and max(seqs2) == min(seqs) - 1
    newer = re.search(r'href="([^"]*after=\d+[^"]*)" rel="prev"', second).group(1)
    back = b.get(newer.replace("&amp;", "&")).get_data(as_text=True)
    assert _seqs(back) == seqs


def test_filters(app, login_as) -> None:  # type: ignore[no-untyped-def]
    tid = _ids(app, "kaifeng")
    b = login_as("kaifeng-lead")
    page = b.get("/t/kaifeng/audit/?action=login").get_data(as_text=True)
    login_seqs = {e.seq for e in _events(app, tid, action="login")}
    assert set(_seqs(page)) <= login_seqs and _seqs(page)
    page = b.get("/t/kaifeng/audit/?actor=kaifeng-lead&action=login").get_data(as_text=True)
    assert _seqs(page)
    # department, entity type and search
    depts = [e for e in _events(app, tid, entity_type="Department", action="create")]
    dept = depts[0]
    page = b.get(f"/t/kaifeng/audit/?department={dept.department_id}").get_data(as_text=True)
    of_dept = {e.seq for e in _events(app, tid, department_id=dept.department_id)}
    assert _seqs(page) and set(_seqs(page)) <= of_dept
    page = b.get("/t/kaifeng/audit/?entity_type=Department&action=create").get_data(as_text=True)
    assert set(_seqs(page)) == {e.seq for e in depts}
    page = b.get(
        "/t/kaifeng/audit/?entity_type=Department&action=create&q=" + dept.summary[:4]
    ).get_data(as_text=True)
    assert dept.seq in _seqs(page)
    page = b.get("/t/kaifeng/audit/?q=%25_no_such_thing").get_data(as_text=True)
    assert not _seqs(page) and "没有符合" in page
    # dates: a window that holds everything and one that holds nothing
    page = b.get("/t/kaifeng/audit/?date_from=2020-01-01&date_to=2099-12-31").get_data(as_text=True)
    assert len(_seqs(page)) == 50
    page = b.get("/t/kaifeng/audit/?date_to=2020-01-01").get_data(as_text=True)
    assert not _seqs(page)
    # bad input is named, never a 500
    answers_200(
        b,
        "date_from=yesterday",
        "department=not-a-uuid",
        "date_from=2026-02-01&date_to=2026-01-01",
        "before=x",
    )
    assert "YYYY-MM-DD" in b.get("/t/kaifeng/audit/?date_from=yesterday").get_data(as_text=True)


def test_list_page_query_count_is_bounded(app, login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-auditor")
    with statements(app) as counts:
        page = b.get("/t/kaifeng/audit/").get_data(as_text=True)
    # sign-in, departments, the page, its people, the filter's names, and one look-up per
    # kind of record on the page for its names — never one per event
    tid = _ids(app, "kaifeng")
    shown = set(_seqs(page))
    kinds = {e.entity_type for e in _events(app, tid) if e.seq in shown and e.entity_type}
    assert len(counts) <= 6 + len(kinds), (len(counts), kinds)


def test_event_detail_shows_before_and_after(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Department

    tid = _ids(fresh_app, "kaifeng")
    with fresh_app.app_context(), scope.tenant_scope(tid):
        dept = db.session.execute(sa.select(Department).order_by(Department.key)).scalars().first()
        old, dept_id = dept.name, dept.id
        dept.name = "<b>新的名称</b>"
        db.session.commit()
    ev = _events(fresh_app, tid, action="update", entity_type="Department")[-1]
    b = Browser(fresh_app)
    b.login("kaifeng-auditor")
    page = b.get(f"/t/kaifeng/audit/{ev.seq}").get_data(as_text=True)
    assert old in page and "&lt;b&gt;新的名称&lt;/b&gt;" in page and "<b>新的名称" not in page
    assert f"/t/kaifeng/audit/history/Department/{dept_id}" in page
    assert b.get("/t/kaifeng/audit/999999").status_code == 404
    # history of the record, from its link
    hist = b.get(f"/t/kaifeng/audit/history/Department/{dept_id}").get_data(as_text=True)
    assert set(_seqs(hist)) == {e.seq for e in _events(fresh_app, tid, entity_id=str(dept_id))}


def test_officers_see_only_their_own_departments_history(app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.auth.models import User
    from portal.extensions import db

    with app.app_context():
        officer = db.session.execute(
            sa.select(User).filter_by(username="kaifeng-civil-affairs")
        ).scalar_one()
        own, tid = officer.department_id, officer.tenant_id
    other = next(
        e.entity_id
        for e in _events(app, tid, entity_type="Department", action="create")
        if e.entity_id != str(own)
    )
    b = login_as("kaifeng-civil-affairs")
    r = b.get(f"/t/kaifeng/audit/history/Department/{own}")
    assert r.status_code == 200 and _seqs(r.get_data(as_text=True))
    assert b.get(f"/t/kaifeng/audit/history/Department/{other}").status_code == 404
    # the refusal is itself in the trail (a record outside one's scope is a probe too)
    denied = _events(app, tid, action="access_denied", actor_name="kaifeng-civil-affairs")
    assert denied[-1].entity_id == f"/t/kaifeng/audit/history/Department/{other}"[:80]
    assert json.loads(denied[-1].changes)["status"] == 404
    own_event = _events(app, tid, entity_id=str(own))[0]
    assert b.get(f"/t/kaifeng/audit/{own_event.seq}").status_code == 200
    login_event = _events(app, tid, action="login")[0]
    assert b.get(f"/t/kaifeng/audit/{login_event.seq}").status_code == 404
    # another district's officer cannot even reach the URL
    assert (
        login_as("jiading-lead").get(f"/t/kaifeng/audit/history/Department/{own}").status_code
        == 404
    )


def test_operators_see_the_platform_chain_only(app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.audit.models import PLATFORM_CHAIN

    b = login_as("operator")
    page = b.get("/platform/audit/").get_data(as_text=True)
    platform = {e.seq for e in _events(app, PLATFORM_CHAIN)}
    assert _seqs(page) and set(_seqs(page)) <= platform
    assert "kaifeng-lead" not in page.split("<tbody>")[1] if "<tbody>" in page else True
    seq = max(platform)
    assert b.get(f"/platform/audit/{seq}").status_code == 200
    assert login_as("kaifeng-auditor").get(f"/platform/audit/{seq}").status_code == 403


def test_exports_are_readable_excel_safe_and_audited(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    from portal.audit import trail
    from portal.extensions import db
    from portal.tenancy import scope

    tid = _ids(fresh_app, "jiading")
    with fresh_app.app_context(), scope.tenant_scope(tid):
        trail.record(db.session, "test_formula", entity_type="Duty", summary='=HYPERLINK("x")')
        db.session.commit()
    b = Browser(fresh_app)
    b.login("jiading-auditor")
    r = b.get("/t/jiading/audit/export.csv?action=test_formula")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    body = r.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["序号", "时间", "操作人", "角色"] and len(rows) == 2
    assert "变更" in rows[0] and "操作" in rows[0]
    assert rows[1][rows[0].index("摘要")] == '\'=HYPERLINK("x")'
    # the sign-ins as people read them: labels, names, local time, no codes or ids
    r = b.get("/t/jiading/audit/export.csv?action=login")
    rows = list(csv.reader(io.StringIO(r.get_data().decode("utf-8-sig"))))
    header, data = rows[0], rows[1:]
    assert data and {row[header.index("操作")] for row in data} == {"登录"}
    assert all("年" in row[header.index("时间")] for row in data)
    assert not any(re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", ",".join(row[:11])) for row in data)
    # Excel: the same rows, Chinese headers
    r = b.get("/t/jiading/audit/export.xlsx?action=login")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.get_data())).active
    sheet = [[c.value for c in row] for row in ws.iter_rows()]
    assert sheet[0][:3] == ["序号", "时间", "操作人"] and len(sheet) == len(rows)
    assert {row[header.index("操作")] for row in sheet[1:]} == {"登录"}
    r = b.get("/t/jiading/audit/export.jsonl?action=login")
    lines = [json.loads(line) for line in r.get_data(as_text=True).splitlines()]
    assert lines and all(line["action"] == "login" for line in lines)
    exports = _events(fresh_app, tid, action="export")
    assert [json.loads(e.changes)["rows"] for e in exports] == [1, len(data), len(data), len(lines)]
    assert exports[0].actor_name == "jiading-auditor" and exports[0].summary == ""
    assert json.loads(exports[0].changes)["filter"] == {"action": "test_formula"}
    assert b.get("/t/jiading/audit/export.pdf").status_code == 404
    assert b.get("/t/jiading/audit/export.csv?date_from=nope").status_code == 400


def test_history_link_helper_for_other_domains(app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Department

    tid = _ids(app, "kaifeng")
    b = login_as("kaifeng-lead")
    with app.app_context(), scope.tenant_scope(tid):
        dept = db.session.execute(sa.select(Department).limit(1)).scalar_one()
        with app.test_request_context("/"):
            from flask import render_template_string
            from flask_login import login_user

            from portal.auth.models import User

            lead = db.session.execute(
                sa.select(User).filter_by(username="kaifeng-lead")
            ).scalar_one()
            login_user(lead)
            html = render_template_string(
                '{% from "audit/_macros.html" import history_link %}{{ history_link(dept) }}',
                dept=dept,
            )
    assert f'href="/t/kaifeng/audit/history/Department/{dept.id}"' in html
    assert b.get(f"/t/kaifeng/audit/history/Department/{dept.id}").status_code == 200
    assert uuid.UUID(str(dept.id))
