"""Joint-meeting pages: the lead's flow, officer scoping, auditor read-only, exports."""

from __future__ import annotations

import io
import re
import zipfile

import sqlalchemy as sa
from docx import Document

from portal.meetings.exports import STYLES
from tests.conftest import Browser, statements
from tests.meetings.helpers import form_version


def _meeting_ids(b: Browser, slug: str, kind: str = "regular") -> list[str]:
    page = b.get(f"/t/{slug}/meetings/?kind={kind}").get_data(as_text=True)
    return list(dict.fromkeys(re.findall(rf"/t/{slug}/meetings/([0-9a-f-]{{36}})", page)))


def _docx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert package.testzip() is None  # every part's CRC is right
    doc = Document(io.BytesIO(data))
    # the official layout comes from the meeting styles, not from Word's defaults
    assert {p.style.name for p in doc.paragraphs if p.text} <= {
        f"Meeting {name}" for name in STYLES
    }, {p.style.name for p in doc.paragraphs}
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


def test_pages_render_for_each_role(login_as) -> None:  # type: ignore[no-untyped-def]
    for user in ("kaifeng-lead", "kaifeng-civil-affairs", "kaifeng-auditor"):
        b = login_as(user)
        home = b.get("/t/kaifeng/").get_data(as_text=True)
        if user == "kaifeng-lead":
            assert 'id="meetings-schedule-panel"' in home and "next-meeting-due" in home
        if user == "kaifeng-civil-affairs":
            assert 'id="meetings-officer-panel"' in home
            assert "开展医疗和养老服务需求摸底" in home  # its open action item
        for path in ("/t/kaifeng/meetings/", "/t/kaifeng/meetings/action-items"):
            assert b.get(path).status_code == 200, (user, path)
        (mid,) = _meeting_ids(b, "kaifeng")
        page = b.get(f"/t/kaifeng/meetings/{mid}").get_data(as_text=True)
        assert "各成员单位于下半年结束前完成本部门职责台账" in page
    assert login_as("kaifeng-auditor").get("/t/kaifeng/meetings/new").status_code == 403


def test_officer_cannot_read_other_department_report_or_items(login_as) -> None:  # type: ignore[no-untyped-def]
    lead = login_as("kaifeng-lead")
    (mid,) = _meeting_ids(lead, "kaifeng")
    page = lead.get(f"/t/kaifeng/meetings/{mid}").get_data(as_text=True)
    report_links = re.findall(rf"/t/kaifeng/meetings/{mid}/reports/([0-9a-f-]{{36}})", page)
    assert len(report_links) > 2
    for dept in report_links[:2]:
        assert lead.get(f"/t/kaifeng/meetings/{mid}/reports/{dept}").status_code == 200
    officer = login_as("kaifeng-civil-affairs")
    for dept in report_links[:3]:
        assert officer.get(f"/t/kaifeng/meetings/{mid}/reports/{dept}").status_code in (403, 404)
    items = officer.get("/t/kaifeng/meetings/action-items?status=all").get_data(as_text=True)
    assert "开封市民政局" in items and "开封市财政局" not in items
    lead_items = lead.get("/t/kaifeng/meetings/action-items?status=all").get_data(as_text=True)
    other_ids = set(re.findall(r'data-item="([0-9a-f-]{36})"', lead_items)) - set(
        re.findall(r'data-item="([0-9a-f-]{36})"', items)
    )
    assert other_ids
    r = officer.post(
        f"/t/kaifeng/meetings/action-items/{next(iter(other_ids))}",
        {"op": "close", "note": "试图关闭别人的事项"},
        csrf_from="/t/kaifeng/",
    )
    assert r.status_code == 404


def test_other_tenants_get_404(login_as) -> None:  # type: ignore[no-untyped-def]
    (mid,) = _meeting_ids(login_as("kaifeng-lead"), "kaifeng")
    other = login_as("jiading-lead")
    assert other.get(f"/t/kaifeng/meetings/{mid}").status_code == 404
    assert other.get(f"/t/jiading/meetings/{mid}").status_code == 404
    assert other.get(f"/t/jiading/meetings/{mid}/export/minutes.docx").status_code == 404


def test_minutes_export_is_valid_docx_with_decisions_and_audited(fresh_app) -> None:  # type: ignore[no-untyped-def]
    b = Browser(fresh_app)
    b.login("kaifeng-lead")
    (mid,) = _meeting_ids(b, "kaifeng")
    r = b.get(f"/t/kaifeng/meetings/{mid}/export/minutes.docx")
    assert r.status_code == 200 and r.mimetype.endswith("wordprocessingml.document")
    text = _docx_text(r.data)
    assert "会 议 纪 要" in text and "2026年第1次" in text
    assert "一、各成员单位于下半年结束前完成本部门职责台账" in text.replace("\n", "")
    assert "三、加强扶助关怀政策宣传" in text.replace("\n", "")
    assert "参会单位：" in text and "主\u00a0持\u00a0人：" in text
    pack = b.get(f"/t/kaifeng/meetings/{mid}/export/prep-pack.docx")
    assert pack.status_code == 200
    pack_text = _docx_text(pack.data)
    assert "一、会议议程" in pack_text and "四、各成员单位工作汇报" in pack_text
    assert "三、特殊家庭关怀覆盖情况" in pack_text
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope

    with fresh_app.app_context(), scope.cross_tenant("test"):
        exports = (
            db.session.execute(sa.select(AuditEvent.summary).where(AuditEvent.action == "export"))
            .scalars()
            .all()
        )
    assert any("minutes" in s for s in exports) and any("prep-pack" in s for s in exports)


def test_lead_creates_meeting_and_bad_input_is_named(fresh_app) -> None:  # type: ignore[no-untyped-def]
    b = Browser(fresh_app)
    b.login("jiangyan-lead")
    r = b.post(
        "/t/jiangyan/meetings/new",
        {"kind": "regular", "period": "2026X9", "meeting_date": "2027-01-10"},
    )
    assert r.status_code == 400 and "2026H1" in r.get_data(as_text=True)
    r = b.post(
        "/t/jiangyan/meetings/new",
        {"kind": "regular", "period": "2026H2", "meeting_date": "not a date"},
    )
    assert r.status_code == 400 and "日期" in r.get_data(as_text=True)
    r = b.post(
        "/t/jiangyan/meetings/new",
        {"kind": "regular", "period": "2026H2", "meeting_date": "2027-01-10", "place": "会议室"},
    )
    assert r.status_code == 302
    page = b.get(r.headers["Location"]).get_data(as_text=True)
    assert "审议确认上次会议" in page and "2027年第1次" in page


def test_auditor_cannot_post(login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-auditor")
    (mid,) = _meeting_ids(b, "kaifeng")
    for path, data in (
        (f"/t/kaifeng/meetings/{mid}/minutes", {"op": "reopen", "reason": "审计想改"}),
        (f"/t/kaifeng/meetings/{mid}/decisions", {"decision": "x"}),
        (f"/t/kaifeng/meetings/{mid}/attendance", {}),
    ):
        assert b.post(path, data, csrf_from="/t/kaifeng/").status_code == 403


def test_list_pages_have_bounded_queries(app, login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-lead")
    (mid,) = _meeting_ids(b, "kaifeng")
    counts: list[int] = []
    for path in (
        "/t/kaifeng/meetings/",
        "/t/kaifeng/meetings/action-items?status=all",
        f"/t/kaifeng/meetings/{mid}",
        "/t/kaifeng/",
    ):
        with statements(app) as seen:
            assert b.get(path).status_code == 200
        counts.append(len(seen))
    assert max(counts) <= 20, counts


def test_cli_schedule_and_export(fresh_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    runner = fresh_app.test_cli_runner()
    r = runner.invoke(args=["meetings", "schedule"])
    assert r.exit_code == 0, r.output
    assert "kaifeng" in r.output and "next_due=" in r.output
    out = tmp_path / "minutes.docx"
    r = runner.invoke(args=["meetings", "export-minutes", "kaifeng", "2026年第1次", str(out)])
    assert r.exit_code == 0, r.output
    assert "会 议 纪 要" in _docx_text(out.read_bytes())
    r = runner.invoke(args=["meetings", "export-minutes", "kaifeng", "bad", str(out)])
    assert r.exit_code != 0 and "2026-1" in r.output


def test_lead_edits_arrangement_and_officer_cannot(fresh_app) -> None:  # type: ignore[no-untyped-def]
    b = Browser(fresh_app)
    b.login("kaifeng-lead")
    page = b.get("/t/kaifeng/meetings/arrangement").get_data(as_text=True)
    assert "开封市失独家庭扶助关怀工作联席会议" in page and "分管副市长" in page
    version = re.search(r'name="row_version" value="(\d+)"', page).group(1)
    form = {"name": "开封市联席会议", "cadence": "weekly", "row_version": version}
    r = b.post("/t/kaifeng/meetings/arrangement", form, follow_redirects=True)
    assert "请从列表中选择会议频次" in r.get_data(as_text=True)
    form.update(cadence="semiannual", chief_convener="分管副市长", conveners="市卫健委主任\n")
    r = b.post("/t/kaifeng/meetings/arrangement", form, follow_redirects=True)
    assert "联席会议制度已保存" in r.get_data(as_text=True)
    r = b.post("/t/kaifeng/meetings/arrangement", form, follow_redirects=True)  # stale version
    page = r.get_data(as_text=True)
    # a version conflict keeps the input: the form is shown again with what was typed
    assert r.status_code == 409 and "他人已修改" in page and 'value="分管副市长"' in page
    officer = Browser(fresh_app)
    officer.login("kaifeng-civil-affairs")
    assert officer.get("/t/kaifeng/meetings/arrangement").status_code == 200
    assert officer.post("/t/kaifeng/meetings/arrangement", form).status_code == 403


def test_officer_sees_minutes_only_once_circulated_and_comments(fresh_app) -> None:  # type: ignore[no-untyped-def]
    lead = Browser(fresh_app)
    lead.login("kaifeng-lead")
    page = lead.get("/t/kaifeng/meetings/new").get_data(as_text=True)
    civil = re.search(r'value="([0-9a-f-]{36})"[^>]*> <span>开封市民政局', page).group(1)
    r = lead.post(
        "/t/kaifeng/meetings/new",
        {"kind": "ad_hoc", "meeting_date": "2026-12-05", "departments": civil},
    )
    url = r.headers["Location"].split("#")[0]
    v = form_version(lead, url, "minutes-form")
    lead.post(
        f"{url}/minutes",
        {"op": "save", "body": "纪要草稿：研究养老服务补贴", "row_version": v},
        csrf_from=url,
    )
    officer = Browser(fresh_app)
    officer.login("kaifeng-civil-affairs")
    assert "纪要草稿：研究养老服务补贴" not in officer.get(url).get_data(as_text=True)
    v = form_version(lead, url, "minutes-form")
    lead.post(f"{url}/minutes", {"op": "circulate", "row_version": v}, csrf_from=url)
    page = officer.get(url).get_data(as_text=True)
    assert "纪要草稿：研究养老服务补贴" in page and 'id="comment-form"' in page
    r = officer.post(
        f"{url}/minutes", {"op": "comment", "comment": "建议补充责任单位"}, csrf_from=url
    )
    assert r.status_code == 302
    assert "建议补充责任单位" in lead.get(url).get_data(as_text=True)
    other = Browser(fresh_app)
    other.login("kaifeng-finance")
    assert other.get(url).status_code == 404  # not invited


def test_duty_list_shows_the_officers_open_action_items(login_as) -> None:  # type: ignore[no-untyped-def]
    page = login_as("kaifeng-civil-affairs").get("/t/kaifeng/duties/").get_data(as_text=True)
    assert 'id="duty-list-action-items"' in page and "开展医疗和养老服务需求摸底" in page
    lead_page = login_as("kaifeng-lead").get("/t/kaifeng/duties/").get_data(as_text=True)
    assert 'id="duty-list-action-items"' not in lead_page


def test_meetings_use_the_policy_cadence_labels_and_the_one_inferred_marker(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """张店's cadence reads as its policy says (根据工作需要); an inferred arrangement value
    shows the shared 推定 marker with its reason until the lead changes that value."""
    from portal.extensions import db
    from portal.meetings import queries
    from portal.tenancy import scope
    from portal.tenancy.services import get_tenant

    b = Browser(fresh_app)
    b.login("zhangdian-lead")
    page = b.get("/t/zhangdian/meetings/arrangement").get_data(as_text=True)
    assert '<option value="ad_hoc" selected>根据工作需要</option>' in page
    assert "根据需要召开" not in page and "every half-year" not in page
    home = b.get("/t/zhangdian/").get_data(as_text=True)
    assert "会议频次：根据工作需要" in home
    reason = "文件未写明会议办公室；测试用推定理由"
    with fresh_app.app_context():
        tenant = get_tenant("kaifeng")
        with scope.tenant_scope(tenant.id):
            arr = queries.arrangement()
            arr.inferred = {"office_department": reason, "cadence": reason}
            db.session.commit()
    lead = Browser(fresh_app)
    lead.login("kaifeng-lead")
    page = lead.get("/t/kaifeng/meetings/arrangement").get_data(as_text=True)
    marker = f'<span class="badge inferred" title="{reason}">推定</span>'
    assert page.count(marker) == 2
    assert marker in lead.get("/t/kaifeng/").get_data(as_text=True)  # next to the cadence
    version = re.search(r'name="row_version" value="(\d+)"', page).group(1)
    office = re.search(
        r'<option value="([0-9a-f-]{36})" selected>', page.split('id="office_department"')[1]
    )
    form = {
        "name": "开封市失独家庭扶助关怀工作联席会议",
        "cadence": "quarterly",
        "row_version": version,
    }
    if office:
        form["office_department"] = office.group(1)
    r = lead.post("/t/kaifeng/meetings/arrangement", form, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "联席会议制度已保存" in page and page.count(marker) == 1  # the cadence was decided


def test_no_template_draws_its_own_inferred_badge_or_cadence_labels() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "portal"
    own = [
        str(p.relative_to(root))
        for p in root.rglob("*.html")
        if 'class="badge inferred"' in p.read_text(encoding="utf-8") and p.name != "_inferred.html"
    ]
    assert own == []
    views = (root / "meetings" / "views.py").read_text(encoding="utf-8")
    assert "every half-year" not in views and "when needed" not in views


def test_duty_list_shows_an_action_item_whose_meeting_the_officer_cannot_see(
    fresh_app, login_as
) -> None:  # type: ignore[no-untyped-def]
    """An action item of the department in a meeting it is (no longer) invited to: the
    item shows without the meeting's number (the page answered 500 on such data)."""
    from portal.auth.models import User
    from portal.extensions import db
    from portal.meetings.models import ActionItem, MeetingInvitation
    from portal.tenancy import scope

    with fresh_app.app_context():
        officer = db.session.execute(
            sa.select(User).where(User.username == "kaifeng-civil-affairs")
        ).scalar_one()
        with scope.tenant_scope(officer.tenant_id):
            item = (
                db.session.execute(
                    sa.select(ActionItem).where(ActionItem.department_id == officer.department_id)
                )
                .scalars()
                .first()
            )
            assert item is not None, "the demo gives 民政 an action item"
            text = item.text
            for invitation in db.session.execute(
                sa.select(MeetingInvitation).where(
                    MeetingInvitation.meeting_id == item.meeting_id,
                    MeetingInvitation.department_id == officer.department_id,
                )
            ).scalars():
                db.session.delete(invitation)
            db.session.commit()
    r = login_as("kaifeng-civil-affairs", fresh_app).get("/t/kaifeng/duties/")
    assert r.status_code == 200
    block = r.get_data(as_text=True).split('id="duty-list-action-items"', 1)[1]
    assert text[:10] in block
