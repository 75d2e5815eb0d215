"""Register accounts: the lead binds town officers to towns; the lead and town officers
manage village-contact accounts of their own town (another town's village: 404)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import sqlalchemy as sa

from tests.register.helpers import tenant_id

TOWN1, TOWN2 = "示例街道一", "示例街道二"
ACCOUNTS = "/t/kaifeng/register/accounts"


def _areas(app: Any) -> dict[str, Any]:
    """name -> Area id of kaifeng's towns and villages; village names are not unique
    across towns, so villages are keyed "town/village"."""
    from portal.extensions import db
    from portal.register.models import Area, AreaKind
    from portal.tenancy import scope

    with app.app_context(), scope.tenant_scope(tenant_id(app, "kaifeng")):
        rows = db.session.execute(sa.select(Area)).scalars().all()
        towns = {a.id: a.name for a in rows if a.kind == AreaKind.town}
        out = {a.name: a.id for a in rows if a.kind == AreaKind.town}
        out |= {f"{towns[a.parent_id]}/{a.name}": a.id for a in rows if a.kind == AreaKind.village}
        db.session.remove()
    return out


def _user(app: Any, username: str) -> Any:
    from portal.auth.models import User
    from portal.extensions import db

    with app.app_context():
        user = db.session.execute(sa.select(User).filter_by(username=username)).scalar_one()
        db.session.expunge(user)
        db.session.remove()
    return user


def _one(app: Any, stmt: Any) -> Any:
    from portal.extensions import db
    from portal.tenancy import scope

    with app.app_context(), scope.tenant_scope(tenant_id(app, "kaifeng")):
        found = db.session.execute(stmt).all()
        db.session.remove()
    return found


def _events(app: Any, action: str) -> list[Any]:
    from portal.audit.models import AuditEvent

    return _one(
        app,
        sa.select(AuditEvent.summary, AuditEvent.entity_type)
        .where(AuditEvent.action == action)
        .order_by(AuditEvent.occurred_at, AuditEvent.seq),  # [-1] is the latest on any backend
    )


def _villages_of(areas: dict[str, Any], town: str) -> list[Any]:
    return [v for k, v in sorted(areas.items()) if k.startswith(f"{town}/")]


def test_lead_binds_and_moves_a_town_officer(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.register.models import Household, OfficerTown

    areas = _areas(fresh_app)
    officer = _user(fresh_app, "kaifeng-town1")
    lead = login_as("kaifeng-lead", fresh_app)
    page = lead.get(ACCOUNTS).get_data(as_text=True)
    assert 'id="town-officers"' in page and "kaifeng-town1" in page
    r = lead.post(
        f"{ACCOUNTS}/officers/{officer.id}/town", {"town_id": str(areas[TOWN2])}, csrf_from=ACCOUNTS
    )
    assert r.status_code == 302
    assert _one(fresh_app, sa.select(OfficerTown.town_id).filter_by(user_id=officer.id)) == [
        (areas[TOWN2],)
    ]
    # the officer now sees the second town's households, not the first's
    town2 = _one(fresh_app, sa.select(Household.id).where(Household.town_id == areas[TOWN2]))[0][0]
    town1 = _one(fresh_app, sa.select(Household.id).where(Household.town_id == areas[TOWN1]))[0][0]
    b = login_as("kaifeng-town1", fresh_app)
    assert b.get(f"/t/kaifeng/register/households/{town2}").status_code == 200
    assert b.get(f"/t/kaifeng/register/households/{town1}").status_code == 404
    # audited (the binding row's update, in Chinese labels in the viewer)
    assert _one(
        fresh_app,
        sa.select(sa.func.count())
        .select_from(sa.table("audit_events", sa.column("entity_type"), sa.column("action")))
        .where(sa.column("entity_type") == "OfficerTown", sa.column("action") == "update"),
    ) == [(1,)]
    # a village is not a town; an unknown officer is 404
    r = lead.post(
        f"{ACCOUNTS}/officers/{officer.id}/town",
        {"town_id": str(_villages_of(areas, TOWN1)[0])},
        csrf_from=ACCOUNTS,
    )
    assert r.status_code == 400
    r = lead.post(
        f"{ACCOUNTS}/officers/{uuid.uuid4()}/town",
        {"town_id": str(areas[TOWN1])},
        csrf_from=ACCOUNTS,
    )
    assert r.status_code == 404


def test_town_officer_manages_contacts_of_their_own_town(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.register.models import ContactVillage, Household, HouseholdContact

    areas = _areas(fresh_app)
    own = _villages_of(areas, TOWN1)
    other = _villages_of(areas, TOWN2)
    town = login_as("kaifeng-town1", fresh_app)
    page = town.get(ACCOUNTS).get_data(as_text=True)
    assert 'id="town-officers"' not in page  # binding officers is the lead's
    assert str(own[0]) in page and str(other[0]) not in page  # only own villages offered

    # another town's village: 404, and nothing is created
    r = town.post(
        f"{ACCOUNTS}/contacts",
        {"username": "kaifeng-v-other", "display_name": "他镇", "village_id": str(other[0])},
        csrf_from=ACCOUNTS,
    )
    assert r.status_code == 404
    # a bad username: the form comes back with the error by the field and the input kept
    r = town.post(
        f"{ACCOUNTS}/contacts",
        {"username": "x", "display_name": "联系人甲", "village_id": str(own[1])},
        csrf_from=ACCOUNTS,
    )
    body = r.get_data(as_text=True)
    assert r.status_code == 400 and 'id="error-username"' in body and "联系人甲" in body

    r = town.post(
        f"{ACCOUNTS}/contacts",
        {"username": "kaifeng-v-new", "display_name": "联系人甲", "village_id": str(own[1])},
        csrf_from=ACCOUNTS,
    )
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    password = re.search(r'id="temporary-password">([^<]+)<', body).group(1)
    new = _user(fresh_app, "kaifeng-v-new")
    assert new.role.value == "village_contact" and new.must_change_password
    assert _one(fresh_app, sa.select(ContactVillage.village_id).filter_by(user_id=new.id)) == [
        (own[1],)
    ]
    assert _events(fresh_app, "account_created")[-1][0] == "kaifeng-v-new"

    # assign two households of its village; one of another village is refused
    village_households = [
        h
        for (h,) in _one(
            fresh_app,
            sa.select(Household.id)
            .where(Household.village_id == own[1], Household.status == "registered")
            .order_by(Household.number),
        )
    ]
    elsewhere = _one(fresh_app, sa.select(Household.id).where(Household.village_id == own[0]))[0][0]
    path = f"{ACCOUNTS}/contacts/{new.id}/households"
    r = town.post(path, {"household": [str(village_households[0]), str(elsewhere)]}, csrf_from=path)
    assert r.status_code == 400
    r = town.post(path, {"household": [str(h) for h in village_households[:2]]}, csrf_from=path)
    assert r.status_code == 302
    assigned = {
        h
        for (h,) in _one(
            fresh_app, sa.select(HouseholdContact.household_id).filter_by(user_id=new.id)
        )
    }
    assert assigned == set(village_households[:2])

    # the new contact signs in (after the forced password change) and sees those two only
    contact = login_as_new(fresh_app, "kaifeng-v-new", password)
    assert contact.get(f"/t/kaifeng/register/households/{village_households[0]}").status_code == 200
    assert contact.get(f"/t/kaifeng/register/households/{elsewhere}").status_code == 404

    # reassign to another village of the town: the old village's assignments end
    r = town.post(
        f"{ACCOUNTS}/contacts/{new.id}/village", {"village_id": str(own[2])}, csrf_from=ACCOUNTS
    )
    assert r.status_code == 302
    assert not _one(fresh_app, sa.select(HouseholdContact.id).filter_by(user_id=new.id))
    # reassigning into another town's village: 404, the binding stays
    r = town.post(
        f"{ACCOUNTS}/contacts/{new.id}/village", {"village_id": str(other[0])}, csrf_from=ACCOUNTS
    )
    assert r.status_code == 404
    assert _one(fresh_app, sa.select(ContactVillage.village_id).filter_by(user_id=new.id)) == [
        (own[2],)
    ]
    # deactivate: audited, and the account can no longer be used
    r = town.post(f"{ACCOUNTS}/contacts/{new.id}/active", {"active": "0"}, csrf_from=ACCOUNTS)
    assert r.status_code == 302
    assert not _user(fresh_app, "kaifeng-v-new").active
    assert _events(fresh_app, "account_deactivated")[-1][0] == "kaifeng-v-new"
    assert contact.get("/t/kaifeng/register/").status_code in (302, 401)


def test_town_officer_cannot_touch_another_towns_contact(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    areas = _areas(fresh_app)
    lead = login_as("kaifeng-lead", fresh_app)
    r = lead.post(
        f"{ACCOUNTS}/contacts",
        {"username": "kaifeng-v-town2", "village_id": str(_villages_of(areas, TOWN2)[0])},
        csrf_from=ACCOUNTS,
    )
    assert r.status_code == 200
    theirs = _user(fresh_app, "kaifeng-v-town2")
    town = login_as("kaifeng-town1", fresh_app)
    assert "kaifeng-v-town2" not in town.get(ACCOUNTS).get_data(as_text=True)
    for path, data in (
        (f"{ACCOUNTS}/contacts/{theirs.id}/active", {"active": "0"}),
        (
            f"{ACCOUNTS}/contacts/{theirs.id}/village",
            {"village_id": str(_villages_of(areas, TOWN1)[0])},
        ),
        (f"{ACCOUNTS}/contacts/{theirs.id}/households", {"household": []}),
    ):
        assert town.post(path, data, csrf_from=ACCOUNTS).status_code == 404
    assert town.get(f"{ACCOUNTS}/contacts/{theirs.id}/households").status_code == 404
    assert _user(fresh_app, "kaifeng-v-town2").active
    # the lead of another district cannot see it either
    other_lead = login_as("zhangdian-lead", fresh_app)
    assert other_lead.get("/t/kaifeng/register/accounts").status_code == 404


def login_as_new(app: Any, username: str, password: str) -> Any:
    """Sign in with a temporary password and set a permanent one (first sign-in)."""
    from tests.conftest import Browser

    b = Browser(app)
    r = b.login(username, password)
    assert r.status_code == 302
    new_password = "Gz-ketang-7751-lamp"
    r = b.post(
        "/account/password",
        {"current_password": password, "new_password": new_password, "confirm": new_password},
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return b
