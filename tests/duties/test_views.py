"""Duty pages: scoping, the officer/lead journey, auditors read-only, conflicts, export, query bounds."""

from __future__ import annotations

import datetime as dt
import io
import re

import sqlalchemy as sa
from openpyxl import load_workbook

from portal.auth.models import Role
from portal.duties import queries
from portal.duties.models import Duty, DutyStatus
from portal.extensions import db
from portal.kernel import memo
from portal.kernel.clock import today
from portal.kernel.periods import Period
from portal.tenancy import scope
from portal.tenancy.models import Department, Tenant
from tests.conftest import DEMO_PASSWORD, statements
from tests.duties.helpers import triple_current_duties

BASE = "/t/kaifeng/duties"


def _ids(page: str) -> list[str]:
    return re.findall(r'data-duty="([^"]+)"', page)


def _version(b, url: str) -> str:  # type: ignore[no-untyped-def]
    """The row_version the duty page's forms carry (the server requires it back)."""
    page = b.get(url).get_data(as_text=True)
    return re.findall(r'name="row_version" value="(\d+)"', page)[-1]


def _kaifeng(app):  # type: ignore[no-untyped-def]
    with scope.cross_tenant("test"):
        return db.session.execute(sa.select(Tenant).filter_by(slug="kaifeng")).scalar_one()


def _duties(
    app, status: DutyStatus | None = None, dept_key: str | None = "civil_affairs"
) -> list[Duty]:  # type: ignore[no-untyped-def]
    with app.app_context():
        tenant = _kaifeng(app)
        with scope.tenant_scope(tenant.id):
            stmt = sa.select(Duty).where(Duty.period == Period.current().code)
            if status is not None:
                stmt = stmt.where(Duty.status == status)
            if dept_key:
                dept = db.session.execute(
                    sa.select(Department).filter_by(key=dept_key)
                ).scalar_one()
                stmt = stmt.where(Duty.department_id == dept.id)
            duties = db.session.execute(stmt.order_by(Duty.measure_number)).unique().scalars().all()
            for d in duties:
                db.session.expunge(d)
            return list(duties)


def test_officer_sees_only_own_department(app, login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-civil-affairs")
    page = b.get(f"{BASE}/?per_page=100").get_data(as_text=True)
    own = {str(d.id) for d in _duties(app)}
    shown = set(_ids(page))
    assert shown and shown <= own
    assert "开封市民政局" in page
    other = _duties(app, dept_key="medical_insurance")[0]
    assert b.get(f"{BASE}/{other.id}").status_code == 404
    assert b.get(f"{BASE}/{next(iter(own))}").status_code == 200
    # the department filter is ignored for officers
    page = b.get(f"{BASE}/?department={other.department_id}").get_data(as_text=True)
    assert set(_ids(page)) <= own
    home = b.get("/t/kaifeng/").get_data(as_text=True)
    assert 'id="open-duties"' in home and 'id="duty-matrix"' not in home


def test_lead_home_matrix_and_lists(login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-lead")
    home = b.get("/t/kaifeng/").get_data(as_text=True)
    assert 'id="duty-matrix"' in home and 'id="returned-list"' in home
    assert "开封市民政局" in home
    queue = b.get(f"{BASE}/review").get_data(as_text=True)
    assert _ids(queue)


def officer_at_a_new_duty(app, login_as, tmp_path):  # type: ignore[no-untyped-def]
    """A duty of 开封's civil affairs not started yet, its page, its officer signed in, and
    the work date an entry on it can carry (evidence files go to `tmp_path`)."""
    app.config["UPLOAD_DIR"] = str(tmp_path)
    duty = _duties(app, DutyStatus.not_started)[0]
    officer = login_as("kaifeng-civil-affairs", app)
    return duty, f"{BASE}/{duty.id}", officer, min(today(), duty.due_date).isoformat()


def log_entry(officer, url: str, day: str, narrative: str, file: tuple[str, bytes], **more):  # type: ignore[no-untyped-def]
    """Post a work entry with one evidence file (`file`: name, content) on the duty page
    `url`, dated `day`; `more`: other fields (families_reached defaults to 1)."""
    data = {"work_date": day, "narrative": narrative, "families_reached": "1", "evidence_date": day}
    data |= more
    data["files"] = (io.BytesIO(file[1]), file[0])
    return officer.post(f"{url}/entries", data, csrf_from=url, content_type="multipart/form-data")


def evidence_links(page: str) -> list[str]:
    """The download links of the evidence files a duty page lists, in page order."""
    return re.findall(r'href="(/t/kaifeng/duties/evidence/[^"]+)"', page)


def test_officer_logs_signs_off_and_lead_reviews(fresh_app, login_as, tmp_path) -> None:  # type: ignore[no-untyped-def]
    duty, url, officer, day = officer_at_a_new_duty(fresh_app, login_as, tmp_path)
    narrative = '=HYPERLINK("http://x") 入户走访特殊家庭'
    file = ("走访台账.pdf", b"%PDF-1.4 evidence")
    # without the version the form was based on, nothing is saved and the input is kept
    r = log_entry(officer, url, day, narrative, file, families_reached="8", amount_paid="2400")
    body = r.get_data(as_text=True)
    assert r.status_code == 400 and "版本" in body and "入户走访特殊家庭" in body
    version = _version(officer, url)
    r = log_entry(
        officer,
        url,
        day,
        narrative,
        file,
        families_reached="8",
        amount_paid="2400",
        row_version=version,
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    page = officer.get(url).get_data(as_text=True)
    assert "走访台账.pdf" in page and 'data-status="in_progress"' in page
    link = evidence_links(page)[0]
    download = officer.get(link)
    assert download.status_code == 200 and download.data == b"%PDF-1.4 evidence"
    assert login_as("kaifeng-medical-insurance", fresh_app).get(link).status_code == 404

    # bad input: the field is named, nothing written
    r = officer.post(
        url + "/sign-off",
        {"assessment": "partly", "statement": "部分落实", "row_version": _version(officer, url)},
        csrf_from=url,
    )
    assert r.status_code == 400 and "原因" in r.get_data(as_text=True)
    r = officer.post(
        url + "/sign-off",
        {"assessment": "fully", "statement": "已全面落实", "row_version": _version(officer, url)},
        csrf_from=url,
    )
    assert r.status_code == 302
    assert 'data-status="submitted"' in officer.get(url).get_data(as_text=True)

    # a second officer of the same department cannot accept it
    with fresh_app.app_context():
        from portal.auth import operations
        from portal.kernel.grants import SYSTEM
        from portal.tenancy.models import Tenant

        operations.create_user(
            SYSTEM,
            username="kaifeng-civil-affairs-2",
            display_name="民政二",
            password=DEMO_PASSWORD,
            role=Role.dept_officer,
            tenant=db.session.get(Tenant, duty.tenant_id),
            department_id=duty.department_id,
        )
        db.session.commit()
    second = login_as("kaifeng-civil-affairs-2", fresh_app)
    r = second.post(url + "/review", {"decision": "accept"}, csrf_from=url)
    assert r.status_code == 403

    lead = login_as("kaifeng-lead", fresh_app)
    version = _version(lead, url)
    r = lead.post(
        url + "/review", {"decision": "return", "reason": "", "row_version": version}, csrf_from=url
    )
    assert r.status_code == 400
    r = lead.post(
        url + "/review",
        {"decision": "return", "reason": "请补充名单", "row_version": version},
        csrf_from=url,
    )
    assert r.status_code == 302
    page = officer.get(url).get_data(as_text=True)
    assert 'data-status="returned"' in page and "请补充名单" in page
    r = officer.post(
        url + "/sign-off",
        {"assessment": "fully", "statement": "已补充名单", "row_version": _version(officer, url)},
        csrf_from=url,
    )
    assert r.status_code == 302
    r = lead.post(
        url + "/review", {"decision": "accept", "row_version": _version(lead, url)}, csrf_from=url
    )
    assert r.status_code == 302
    assert 'data-status="accepted"' in lead.get(url).get_data(as_text=True)

    # export: opens, one sheet per department, formulas neutralised, audited
    r = lead.get(f"{BASE}/export.xlsx?period={duty.period}")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.data))
    assert "开封市民政局" in wb.sheetnames and len(wb.sheetnames) > 5
    values = [c.value for row in wb["开封市民政局"].iter_rows() for c in row if c.value]
    assert any(str(v).startswith("'=HYPERLINK") for v in values)
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)
    with fresh_app.app_context():
        from zoneinfo import ZoneInfo

        from portal.audit.models import AuditEvent

        with scope.tenant_scope(duty.tenant_id):
            # the sign-off time in Beijing time, the one format of the pages (not UTC)
            stored = db.session.execute(
                sa.select(Duty.submitted_at).where(Duty.id == duty.id)
            ).scalar_one()
            local = stored.replace(tzinfo=stored.tzinfo or dt.UTC).astimezone(
                ZoneInfo("Asia/Shanghai")
            )
            shown = f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
            assert shown in values, (shown, values[:40])
            actions = set(
                db.session.execute(
                    sa.select(AuditEvent.action).where(AuditEvent.entity_id == str(duty.id))
                ).scalars()
            )
            assert {"duty.sign_off", "duty.returned", "duty.accepted"} <= actions
            exports = db.session.execute(
                sa.select(sa.func.count()).where(AuditEvent.action == "duties.export")
            ).scalar()
            assert exports == 1


def test_auditor_reads_everything_and_changes_nothing(app, login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-auditor")
    duty = _duties(app, DutyStatus.submitted)[0]
    url = f"{BASE}/{duty.id}"
    assert b.get(f"{BASE}/").status_code == 200
    page = b.get(url).get_data(as_text=True)
    assert 'id="review"' not in page and 'id="add-entry"' not in page
    assert b.get(f"{BASE}/export.xlsx").status_code == 200
    token = b.csrf(url) if "csrf_token" in page else b.csrf(f"{BASE}/")
    for path, data in (
        (url + "/entries", {"work_date": "2026-07-01", "narrative": "x"}),
        (url + "/sign-off", {"assessment": "fully", "statement": "x"}),
        (url + "/review", {"decision": "accept"}),
        (f"{BASE}/generate", {"period": duty.period}),
    ):
        r = b.client.post(path, data={**data, "csrf_token": token})
        assert r.status_code == 403, path
    assert _duties(app, DutyStatus.submitted)[0].row_version == duty.row_version


def test_second_save_gets_a_conflict_and_keeps_input(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    duty = _duties(fresh_app, DutyStatus.in_progress)[0]
    url = f"{BASE}/{duty.id}"
    officer = login_as("kaifeng-civil-affairs", fresh_app)
    lead = login_as("kaifeng-lead", fresh_app)
    # the officer opened the page at this version; meanwhile the duty changes
    stale = duty.row_version
    with fresh_app.app_context(), scope.tenant_scope(duty.tenant_id):
        d = queries.get_duty(duty.id)
        d.review_note = "changed meanwhile"
        db.session.commit()
    r = officer.post(
        url + "/sign-off",
        {"assessment": "fully", "statement": "我的签报说明不会丢", "row_version": stale},
        csrf_from=url,
    )
    body = r.get_data(as_text=True)
    assert r.status_code == 409 and "我的签报说明不会丢" in body
    assert "他人已修改" in body or "Someone else" in body
    # the second try, from the refreshed form, goes through
    version = re.search(r'name="row_version" value="(\d+)"', body)
    assert version and int(version.group(1)) == stale + 1
    r = officer.post(
        url + "/sign-off",
        {"assessment": "fully", "statement": "我的签报说明不会丢", "row_version": version.group(1)},
        csrf_from=url,
    )
    assert r.status_code == 302
    # the lead accepts straight from the review queue
    queue = lead.get(f"{BASE}/review").get_data(as_text=True)
    assert str(duty.id) in _ids(queue)
    version = re.search(
        rf'duties/{duty.id}/review".*?name="row_version" value="(\d+)"', queue, re.S
    ).group(1)
    r = lead.post(
        url + "/review",
        {"decision": "accept", "row_version": version, "next": "queue"},
        csrf_from=f"{BASE}/review",
    )
    assert r.status_code == 302 and r.headers["Location"].endswith("/duties/review")
    assert 'data-status="accepted"' in lead.get(url).get_data(as_text=True)


def test_duty_list_query_count_does_not_grow(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    fresh_app.config["PAGE_SIZE"] = 1000
    officer = login_as("kaifeng-civil-affairs", fresh_app)
    lead = login_as("kaifeng-lead", fresh_app)

    def queries(b, path: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
        memo.forget()  # nothing kept (`kernel.memo`): the worst case
        with statements(fresh_app) as seen:
            r = b.get(path)
        assert r.status_code == 200
        return len(seen), len(_ids(r.get_data(as_text=True)))

    before = {who: queries(b, f"{BASE}/") for who, b in (("officer", officer), ("lead", lead))}
    home_before = [queries(b, "/t/kaifeng/")[0] for b in (officer, lead)]
    n = before["officer"][1]
    assert n > 0
    triple_current_duties(fresh_app)
    after = {who: queries(b, f"{BASE}/") for who, b in (("officer", officer), ("lead", lead))}
    assert after["officer"][1] == 3 * n
    assert after["officer"][0] == before["officer"][0] <= 12
    assert after["lead"][0] == before["lead"][0] <= 12
    assert [queries(b, "/t/kaifeng/")[0] for b in (officer, lead)] == home_before


def test_bad_period_and_ids_do_not_500(login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-lead")
    assert b.get(f"{BASE}/?period=2026H9&page=x&status=bogus&department=nope").status_code == 200
    assert b.get(f"{BASE}/00000000-0000-0000-0000-000000000000").status_code == 404
    assert b.get(f"{BASE}/evidence/00000000-0000-0000-0000-000000000000").status_code == 404
    other = login_as("zhangdian-lead")
    assert other.get(f"{BASE}/").status_code == 404
    assert other.get("/t/zhangdian/duties/").status_code == 200
