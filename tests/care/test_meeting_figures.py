"""The joint meeting gets the care figures as figures: the draft agenda's care item and
the prep pack's coverage table hold the same numbers as the lead's dashboard."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa
from docx import Document

from tests.care.helpers import district


def _meeting_ids(b, slug: str) -> list[str]:  # type: ignore[no-untyped-def]
    ids: list[str] = []
    for kind in ("regular", "ad_hoc"):
        page = b.get(f"/t/{slug}/meetings/?kind={kind}").get_data(as_text=True)
        ids += re.findall(rf"/t/{slug}/meetings/([0-9a-f-]{{36}})", page)
    return list(dict.fromkeys(ids))


def _dashboard_rows(page: str) -> dict[str, list[str]]:
    """Town rows of the dashboard table: name → [households, contact %, doctor %,
    festival done/due, check-ups done/due, overdue, silent]."""
    out = {}
    for row in re.findall(r'<tr class="town".*?</tr>', page, re.S):
        cells = [
            re.sub(r"<[^>]+>|&emsp;", "", c).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        out[cells[0]] = cells[1:]
    return out


@pytest.mark.parametrize("slug", ["zhangdian", "jiangyan", "kaifeng"])
def test_prep_pack_coverage_table_equals_the_dashboard(app, login_as, slug: str) -> None:  # type: ignore[no-untyped-def]
    from portal.care import queries, summary
    from portal.kernel import clock

    b = login_as(f"{slug}-lead")
    ids = _meeting_ids(b, slug)
    assert ids, f"{slug} has no demo meeting"
    r = b.get(f"/t/{slug}/meetings/{ids[0]}/export/prep-pack.docx")
    assert r.status_code == 200
    doc = Document(io.BytesIO(r.data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "三、特殊家庭关怀覆盖情况" in text
    # the date in the one Chinese format of portal.kernel.timefmt (2026年12月6日)
    y, m, d = re.search(r"截至(\d{4})年(\d{1,2})月(\d{1,2})日，按本地区政策实时计算", text).groups()
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "街镇")
    rows = [[c.text for c in row.cells] for row in table.rows[1:]]
    with district(app, slug):
        as_of = dt.date(int(y), int(m), int(d))
        expected = summary.table(queries.coverage(as_of))
        today = clock.today()
    assert rows == expected
    if as_of == today:  # an upcoming meeting: exactly the dashboard's figures
        dash = _dashboard_rows(b.get(f"/t/{slug}/care/").get_data(as_text=True))
        for row in rows[:-1]:
            town = dash[row[0]]
            assert row[1] == town[0]  # households
            assert row[2] == town[1]  # contact coverage
            assert row[4] == town[3].replace(" ", "")  # festival done/due
            assert row[6] == town[5]  # overdue


def test_draft_agenda_carries_the_care_figures(app) -> None:  # type: ignore[no-untyped-def]
    from portal.care import queries, summary
    from portal.kernel import clock

    with district(app, "zhangdian"):
        cov = queries.coverage(clock.today())
        line = summary.agenda_line(cov)
    f = cov.district
    assert (
        f"联系人覆盖率 {f.rates()['contact']:.1f}%，{f.households - f.contact_ok} 户未落实" in line
    )
    assert "节日走访完成率" in line and f"{f.festival_done}/{f.festival_due}" in line


def _kpis(page: str) -> dict[str, str]:
    """The dashboard's district KPIs and counts: contact %, doctor signed/persons,
    festival done/due, check-ups done/due."""
    value = {
        k: re.search(rf'id="kpi-{k}">([^<]*)<', page).group(1).strip()
        for k in ("contact", "doctor")
    }
    counts = re.findall(r'<div class="note"[^>]*>(\d+) / (\d+)</div>', page)
    value["doctor_n"], value["festival_n"], value["checkup_n"] = (f"{a}/{b}" for a, b in counts)
    return value


def test_health_report_draft_carries_the_dashboards_care_figures(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    """卫健's draft report to an upcoming meeting holds the dashboard's figures of the
    day; another department's draft has no care section."""
    from portal.care import queries
    from portal.extensions import db
    from portal.kernel import clock
    from portal.kernel.periods import Period
    from portal.meetings import arrangement, reports
    from portal.tenancy.models import Department
    from tests.meetings.helpers import acting_as

    today = clock.today()
    with acting_as(fresh_app, "zhangdian-lead") as lead:
        m = arrangement.create_meeting(
            lead,
            arrangement.MeetingInput(
                kind="ad_hoc",
                period=Period.of(today).code,
                meeting_date=(today + dt.timedelta(days=14)).isoformat(),
            ),
        )
        health = queries.eligibility_department_id()
        other = db.session.execute(
            sa.select(Department.id).where(Department.id != health).limit(1)
        ).scalar_one()
        body = reports.draft_report(m, health).body
        assert "特殊家庭关怀情况" not in reports.draft_report(m, other).body
        db.session.rollback()
    kpi = _kpis(
        login_as("zhangdian-lead", fresh_app).get("/t/zhangdian/care/").get_data(as_text=True)
    )
    section = body[body.index("## 特殊家庭关怀情况") :]
    assert f"联系人覆盖率 {kpi['contact']}" in section
    assert f"家庭医生签约率 {kpi['doctor']}：{kpi['doctor_n']} 人" in section
    assert f"节日走访完成 {kpi['festival_n']}" in section
    assert f"体检完成 {kpi['checkup_n']} 人" in section
    assert re.search(r"以来走访联系 \d+ 次（其中节日慰问 \d+ 次），体检 \d+ 人次", section)


def test_a_second_prep_pack_export_reuses_the_care_figures(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    """The export records an audit event (a write of the trail only): the care figures,
    which read no trail, are kept for the next export (`care.summary.coverage`)."""
    from tests.conftest import statements

    b = login_as("zhangdian-lead", fresh_app)
    url = f"/t/zhangdian/meetings/{_meeting_ids(b, 'zhangdian')[0]}/export/prep-pack.docx"
    with statements(fresh_app) as first:
        assert b.get(url).status_code == 200
    with statements(fresh_app) as second:
        assert b.get(url).status_code == 200
    households_read = re.compile(r"FROM (care_village_figures|households)\b")
    assert any(households_read.search(s) for s in first), first  # computed once …
    assert not any(households_read.search(s) for s in second), second  # … then kept
    assert any("audit_events" in s for s in second)  # the export was recorded
