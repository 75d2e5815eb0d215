"""Village-contact accounts from the care pages: a town officer creates (linked to a
contact person), deactivates and resets the accounts of their own town's villages —
through the register's account operations — and gets 404 for anyone else's."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.care.helpers import district, officer_town, user_named
from tests.conftest import Browser

PAGE = "/t/kaifeng/care/accounts"


def _villages(app) -> tuple[list, list]:  # type: ignore[no-untyped-def]
    """The villages of kaifeng-town1's town, and those of the other towns."""
    from portal.extensions import db
    from portal.register.models import Area

    with district(app, "kaifeng"):
        town = officer_town(user_named("kaifeng-town1"))
        rows = db.session.execute(
            sa.select(Area.id, Area.parent_id).where(Area.kind == "village")
        ).all()
    return [v for v, p in rows if p == town], [v for v, p in rows if p != town]


def _events(app, action: str, username: str) -> list:  # type: ignore[no-untyped-def]
    from portal.audit.models import AuditEvent
    from portal.extensions import db

    with district(app, "kaifeng"):
        return list(
            db.session.execute(
                sa.select(AuditEvent).where(
                    AuditEvent.action == action, AuditEvent.summary.contains(username)
                )
            ).scalars()
        )


def _temporary_password(page: str) -> str:
    return re.search(r'id="temporary-password">([^<]+)<', page).group(1)


def test_town_officer_creates_an_account_for_a_contact_person(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.care.models import Assignment, Contact
    from portal.extensions import db
    from portal.register.models import HouseholdContact

    own, _other = _villages(fresh_app)
    b = login_as("kaifeng-town1", fresh_app)
    page = b.get(PAGE).get_data(as_text=True)
    assert 'data-user="kaifeng-village1"' in page  # their town's contact
    # a contact person of the town holding households, without an account
    with district(fresh_app, "kaifeng"):
        town = officer_town(user_named("kaifeng-town1"))
        person = db.session.execute(
            sa.select(Contact)
            .where(Contact.town_id == town, Contact.user_id.is_(None), Contact.active.is_(True))
            .where(
                Contact.id.in_(
                    sa.select(Assignment.contact_id).where(Assignment.ended_on.is_(None))
                )
            )
            .order_by(Contact.name)
            .limit(1)
        ).scalar_one()
        person_id, person_name = person.id, person.name
        held = set(
            db.session.execute(
                sa.select(Assignment.household_id).where(
                    Assignment.contact_id == person_id, Assignment.ended_on.is_(None)
                )
            ).scalars()
        )
    assert str(person_id) in page
    # refused beside the field, the input kept, nothing made
    r = b.post(PAGE, {"username": "x", "village_id": str(own[0])})
    assert r.status_code == 400 and 'id="error-username"' in r.get_data(as_text=True)
    r = b.post(
        PAGE,
        {"username": "kf-cun-new", "village_id": str(own[0]), "contact_id": str(person_id)},
    )
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store", body[:300]
    password = _temporary_password(body)
    with district(fresh_app, "kaifeng"):
        made = user_named("kf-cun-new")
        assert made.role == "village_contact" and made.display_name == person_name
        assert made.must_change_password
        linked = db.session.execute(
            sa.select(Contact.user_id).where(Contact.id == person_id)
        ).scalar_one()
        assert linked == made.id
        sees = set(
            db.session.execute(
                sa.select(HouseholdContact.household_id).where(HouseholdContact.user_id == made.id)
            ).scalars()
        )
        assert sees == held and held
    (event,) = _events(fresh_app, "account_created", "kf-cun-new")
    assert event.actor_name == "kaifeng-town1"
    # the new account signs in with the temporary password (and must change it)
    fresh = Browser(fresh_app)
    r = fresh.login("kf-cun-new", password)
    assert r.status_code == 302
    # the person is linked now: not offered again, and refused if posted again
    r = b.post(
        PAGE,
        {"username": "kf-cun-two", "village_id": str(own[0]), "contact_id": str(person_id)},
    )
    assert r.status_code == 400 and 'id="error-contact_id"' in r.get_data(as_text=True)


def test_deactivate_and_reset_end_the_contacts_sessions(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.auth.models import User
    from portal.extensions import db

    with district(fresh_app, "kaifeng"):
        uid = user_named("kaifeng-village1").id
    village = login_as("kaifeng-village1", fresh_app)
    assert village.get("/t/kaifeng/care/mine").status_code == 200
    b = login_as("kaifeng-town1", fresh_app)
    reset = f"{PAGE}/{uid}/reset"
    assert reset in b.get(PAGE).get_data(as_text=True)
    page = b.get(reset).get_data(as_text=True)
    assert 'id="account-reset-form"' in page
    r = b.post(reset, {})  # not confirmed: nothing happens
    assert r.status_code == 400
    assert village.get("/t/kaifeng/care/mine").status_code == 200
    r = b.post(reset, {"confirm": "1"})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    password = _temporary_password(r.get_data(as_text=True))
    assert village.get("/t/kaifeng/care/mine").status_code == 302  # session ended
    assert Browser(fresh_app).login("kaifeng-village1").status_code != 302  # old password
    assert Browser(fresh_app).login("kaifeng-village1", password).status_code == 302
    assert _events(fresh_app, "password_reset", "kaifeng-village1")
    r = b.post(f"{PAGE}/{uid}/active", {"active": "0"})
    assert r.status_code == 302
    with district(fresh_app, "kaifeng"):
        active = db.session.execute(sa.select(User.active).where(User.id == uid)).scalar_one()
        assert active is False
    assert Browser(fresh_app).login("kaifeng-village1", password).status_code != 302
    assert _events(fresh_app, "account_deactivated", "kaifeng-village1")
    r = b.post(f"{PAGE}/{uid}/active", {"active": "1"})
    assert r.status_code == 302


def test_another_towns_contact_and_other_roles_get_404(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db

    own, other = _villages(fresh_app)
    lead = login_as("kaifeng-lead", fresh_app)
    # the lead makes a contact for another town (the register's own page)
    r = lead.post(
        "/t/kaifeng/register/accounts/contacts",
        {"username": "kf-other-town", "village_id": str(other[0])},
        csrf_from="/t/kaifeng/register/accounts",
    )
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    with district(fresh_app, "kaifeng"):
        foreign = user_named("kf-other-town").id
    with district(fresh_app, "zhangdian"):
        zhangdian = user_named("zhangdian-village1").id
    b = login_as("kaifeng-town1", fresh_app)
    assert 'data-user="kf-other-town"' not in b.get(PAGE).get_data(as_text=True)
    for uid in (foreign, zhangdian, "not-a-uuid"):
        assert b.get(f"{PAGE}/{uid}/reset").status_code == 404
        assert b.post(f"{PAGE}/{uid}/reset", {"confirm": "1"}, csrf_from=PAGE).status_code == 404
        assert b.post(f"{PAGE}/{uid}/active", {"active": "0"}, csrf_from=PAGE).status_code == 404
    # a village of another town: not found, nothing made
    r = b.post(PAGE, {"username": "kf-sneaky", "village_id": str(other[0])})
    assert r.status_code == 404
    with district(fresh_app, "kaifeng"):
        from portal.auth.models import User

        assert (
            db.session.execute(sa.select(User.id).filter_by(username="kf-sneaky")).scalar() is None
        )
    # the page is the town officer's: the lead and the village contact get 404
    for user in ("kaifeng-lead", "kaifeng-village1"):
        assert login_as(user, fresh_app).get(PAGE).status_code == 404
    # no CSRF token: refused
    r = b.client.post(f"{PAGE}/{foreign}/active", data={"active": "0"})
    assert r.status_code == 400
    assert own  # the officer's town has villages (the refusal above is about the town)
