"""The care pages: scope (404 outside it), the visit form with a photo, the roster and
its export, the dashboard and its drill-down."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
import sqlalchemy as sa

from tests.care.helpers import district
from tests.conftest import count_of
from tests.register.helpers import contact_households, households_by_town

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _festival_done(page: str) -> int:
    return int(re.search(r'id="festival-counts">(\d+) /', page).group(1))


def test_lead_dashboard_roster_export_and_drill(login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("zhangdian-lead")
    page = b.get("/t/zhangdian/care/").get_data(as_text=True)
    assert "联系人覆盖率" in page or "Contact coverage" in page
    assert 'id="care-towns"' in page and "示例街道一" in page
    drill = b.get("/t/zhangdian/care/households?figure=contact_missing")
    assert drill.status_code == 200 and "/care/households/" in drill.get_data(as_text=True)
    assert b.get("/t/zhangdian/care/households?figure=nonsense").status_code == 404
    assert (
        b.get("/t/zhangdian/care/households?figure=festival_overdue&area=x&page=y").status_code
        == 200
    )
    roster = b.get("/t/zhangdian/care/roster").get_data(as_text=True)
    assert 'id="roster"' in roster
    assert re.search(r"1[3-8]\d\*{4}\d{4}", roster)  # phones masked
    assert not re.search(r"(?<![\w.-])1[3-8]\d{9}(?![\w-])", roster), re.search(
        r".{60}1[3-8]\d{9}.{20}", roster
    )
    r = b.get("/t/zhangdian/care/roster.xlsx")
    assert r.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) > 150 and rows[0][1] in ("街镇", "Town")
    text = "|".join(str(c) for row in rows for c in row if c)
    assert not re.search(r"1[3-8]\d{9}", text)


def test_village_contact_sees_only_their_households_and_records_a_visit(
    fresh_app, login_as
) -> None:  # type: ignore[no-untyped-def]
    mine = contact_households(fresh_app, "kaifeng-village1")
    others = [h for hs in households_by_town(fresh_app).values() for h in hs if h not in mine]
    b = login_as("kaifeng-village1", fresh_app)
    listing = b.get("/t/kaifeng/care/mine").get_data(as_text=True)
    assert listing.count("/care/households/") == len(mine)
    assert b.get(f"/t/kaifeng/care/households/{others[0]}").status_code == 404
    assert b.get("/t/kaifeng/care/").status_code == 404  # no dashboard for a village contact
    hid = sorted(mine)[0]
    path = f"/t/kaifeng/care/households/{hid}"
    # a broken rule keeps the input and puts the error by the field
    r = b.post(
        f"{path}/visits",
        {"kind": "festival", "festival": "", "visited_on": "2026-09-20", "findings": "身体尚可"},
        csrf_from=path,
    )
    assert r.status_code == 400 and "身体尚可" in r.get_data(as_text=True)
    r = b.post(
        f"{path}/visits",
        {
            "kind": "festival",
            "festival": "mid_autumn",
            "visited_on": "2026-09-20",
            "findings": "送去月饼，老人精神不错",
            "photos": (io.BytesIO(PNG), "visit.png"),
        },
        csrf_from=path,
        content_type="multipart/form-data",
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:400]
    page = b.get(path).get_data(as_text=True)
    assert "送去月饼" in page
    from portal.care.models import Visit, VisitPhoto
    from portal.extensions import db

    with district(fresh_app, "kaifeng"):
        visit = db.session.execute(
            sa.select(Visit).where(Visit.household_id == hid, Visit.festival == "mid_autumn")
        ).scalar_one()
        assert visit.festival_year == 2026
        assert count_of(VisitPhoto, VisitPhoto.visit_id == visit.id) == 1


@pytest.mark.parametrize("user", ["kaifeng-lead", "kaifeng-town1"])
def test_out_of_scope_household_is_404(app, login_as, user: str) -> None:  # type: ignore[no-untyped-def]
    b = login_as(user)
    assert b.get("/t/kaifeng/care/households/not-a-uuid").status_code == 404
    assert (
        b.get("/t/kaifeng/care/households/00000000-0000-0000-0000-000000000000").status_code == 404
    )


def test_town_officer_adds_assigns_and_reassigns_keeping_history(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.care.models import Assignment, Contact
    from portal.extensions import db

    town = households_by_town(fresh_app)
    hid = next(iter(town.values()))[0]  # the first town is the officer's
    b = login_as("kaifeng-town1", fresh_app)
    r = b.post("/t/kaifeng/care/contacts", {"name": "", "role": "village_cadre"})
    assert r.status_code == 400 and "village_cadre" in r.get_data(as_text=True)
    r = b.post(
        "/t/kaifeng/care/contacts",
        {"name": "测试联系人", "role": "village_cadre", "unit": "居委会", "phone": "13800001234"},
    )
    assert r.status_code == 302
    page = b.get("/t/kaifeng/care/contacts").get_data(as_text=True)
    assert "测试联系人" in page and "138****1234" in page and "13800001234" not in page
    with district(fresh_app, "kaifeng"):
        new = db.session.execute(sa.select(Contact).filter_by(name="测试联系人")).scalar_one()
        new_id = new.id
        old = (
            db.session.execute(
                sa.select(Assignment).where(
                    Assignment.household_id == hid, Assignment.ended_on.is_(None)
                )
            )
            .scalars()
            .first()
        )
        old_id, old_contact = old.id, old.contact_id
    path = f"/t/kaifeng/care/households/{hid}"
    r = b.post(
        f"/t/kaifeng/care/assignments/{old_id}/reassign",
        {"contact_id": str(new_id), "reason": "工作调动"},
        csrf_from=path,
    )
    assert r.status_code == 302
    with district(fresh_app, "kaifeng"):
        ended = db.session.execute(
            sa.select(Assignment).where(Assignment.id == old_id)
        ).scalar_one()
        assert ended.ended_on is not None and ended.end_reason == "工作调动"
        current = (
            db.session.execute(
                sa.select(Assignment.contact_id).where(
                    Assignment.household_id == hid, Assignment.ended_on.is_(None)
                )
            )
            .scalars()
            .all()
        )
        assert new_id in current and old_contact not in current
    # another town's household: 404
    other = list(town.values())[1][0]
    r = b.post(
        f"/t/kaifeng/care/households/{other}/assign", {"contact_id": str(new_id)}, csrf_from=path
    )
    assert r.status_code == 404


def test_town_officer_home_shows_their_towns_figures(app, login_as) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from portal.auth.models import User
    from portal.care import queries
    from portal.extensions import db
    from portal.tenancy import scope

    with district(app, "zhangdian"):
        officer = db.session.execute(
            sa.select(User).filter_by(username="zhangdian-town1")
        ).scalar_one()
        token = scope.set_scope(
            dataclasses.replace(scope.current(), user_id=officer.id, role="town_officer")
        )
        try:
            f = queries.coverage().district
        finally:
            scope.reset_scope(token)
    page = login_as("zhangdian-town1").get("/t/zhangdian/").get_data(as_text=True)
    panel = re.search(r'id="care-town-panel">(.*?)</section>\s*</section>', page, re.S).group(1)
    assert f"{f.festival_done} / {f.festival_due}" in panel
    assert "care-town-panel" not in login_as("zhangdian-lead").get("/t/zhangdian/").get_data(
        as_text=True
    )
