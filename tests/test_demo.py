"""`portal demo` is idempotent and carries the seed rosters."""

from __future__ import annotations

import sqlalchemy as sa


def _counts(app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.tenancy import scope

    with app.app_context(), scope.cross_tenant("test counts"):
        return {
            t.name: db.session.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in db.Model.metadata.sorted_tables
            if t.name not in ("audit_events", "audit_chain_heads", "login_attempts")
        }


def test_demo_twice_changes_nothing(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.audit import trail
    from portal.demo import load_demo

    before = _counts(fresh_app)
    with fresh_app.app_context(), trail.acting_as(trail.system_actor("demo")):
        load_demo()
    assert _counts(fresh_app) == before
    assert before["tenants"] == 4


def test_demo_rosters_are_the_seed_departments(app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Department, Tenant

    with app.app_context(), scope.cross_tenant("test"):
        rows = db.session.execute(
            sa.select(Tenant.slug, Department.name).join(
                Department, Department.tenant_id == Tenant.id
            )
        ).all()
    names = {}
    for slug, name in rows:
        names.setdefault(slug, set()).add(name)
    assert "开封市民政局" in names["kaifeng"]
    assert "淄博市张店区园林绿化服务中心" in names["zhangdian"]
    assert "上海市嘉定区地区工作办公室" in names["jiading"]
    assert len(names["jiangyan"]) >= 5


def test_demo_has_evidence_files_an_officer_can_download(app, login_as) -> None:  # type: ignore[no-untyped-def]
    """Each district's demo carries a few payment ledgers (.xlsx) as evidence."""
    import io
    import re

    from openpyxl import load_workbook

    # the county governments pay measure 1's special allowance (its first lead): their ledger
    b = login_as("kaifeng-county-government")
    previous = None
    with app.app_context():
        from portal.duties.services import current_period, previous_period

        previous = previous_period(current_period())
    page = b.get(f"/t/kaifeng/duties/?period={previous}").get_data(as_text=True)
    found = None
    for duty_id in dict.fromkeys(re.findall(r"/t/kaifeng/duties/([0-9a-f-]{36})", page)):
        detail = b.get(f"/t/kaifeng/duties/{duty_id}").get_data(as_text=True)
        found = re.search(r'href="(/t/kaifeng/duties/evidence/[0-9a-f-]{36})"', detail)
        if found:
            break
    assert found, "no evidence link on the paying department's previous-period duties"
    r = b.get(found.group(1))
    assert r.status_code == 200 and r.headers["Cache-Control"] == "private, no-store"
    sheet = load_workbook(io.BytesIO(r.data)).active
    assert "发放明细表" in str(sheet["A1"].value)
    assert sheet["A2"].value == "序号"
