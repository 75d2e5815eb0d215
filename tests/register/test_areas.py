"""Towns and villages: entered by the lead or imported from a two-column sheet."""

from __future__ import annotations

import io

import sqlalchemy as sa
from openpyxl import Workbook

from tests.register.helpers import tenant_id


def test_lead_enters_and_imports_areas(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.register.models import Area, AreaKind
    from portal.tenancy import scope

    lead = login_as("kaifeng-lead", fresh_app)
    page = "/t/kaifeng/register/areas"
    assert lead.post(page, {"name": "测试街道"}).status_code == 302
    with fresh_app.app_context(), scope.tenant_scope(tenant_id(fresh_app, "kaifeng")):
        town = db.session.execute(sa.select(Area).filter_by(name="测试街道")).scalar_one()
        town_id = town.id
        db.session.remove()
    assert lead.post(page, {"name": "测试社区", "parent_id": str(town_id)}).status_code == 302
    assert lead.post(page, {"name": ""}).status_code == 400
    wb = Workbook()
    wb.active.append(["街镇", "村居"])
    wb.active.append(["测试街道", "测试二村"])
    wb.active.append(["新导入镇", "新导入村"])
    out = io.BytesIO()
    wb.save(out)
    r = lead.post(
        page,
        {"file": (io.BytesIO(out.getvalue()), "areas.xlsx")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    listing = lead.get(page).get_data(as_text=True)
    assert "测试社区" in listing and "测试二村" in listing and "新导入村" in listing
    with fresh_app.app_context(), scope.tenant_scope(tenant_id(fresh_app, "kaifeng")):
        villages = (
            db.session.execute(
                sa.select(Area.name).where(Area.parent_id == town_id, Area.kind == AreaKind.village)
            )
            .scalars()
            .all()
        )
        assert sorted(villages) == ["测试二村", "测试社区"]
        events = (
            db.session.execute(
                sa.select(AuditEvent).where(
                    AuditEvent.entity_type == "Area", AuditEvent.actor_name == "kaifeng-lead"
                )
            )
            .scalars()
            .all()
        )
        assert len(events) == 5 and {e.action for e in events} == {"create"}
        db.session.remove()
    # the town officer reads the areas but cannot add one
    town_officer = login_as("kaifeng-town1", fresh_app)
    assert town_officer.get(page).status_code == 200
    assert town_officer.post(page, {"name": "越权街道"}).status_code == 404
