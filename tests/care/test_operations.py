"""Operations: assignments keep history and a linked village-contact account follows
them; writes are audited with phone numbers masked."""

from __future__ import annotations

import sqlalchemy as sa

from tests.care.helpers import as_user, district, officer_town, user_named
from tests.conftest import count_of


def test_assign_and_deactivate_follow_a_linked_account(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.audit import trail
    from portal.audit.models import AuditEvent
    from portal.care import operations
    from portal.care.models import Assignment, Contact
    from portal.extensions import db
    from portal.register.models import Household, HouseholdContact

    with district(fresh_app, "jiading"):
        officer = user_named("jiading-town1")
        village = user_named("jiading-village1")
        town = officer_town(officer)
        linked = set(
            db.session.execute(
                sa.select(HouseholdContact.household_id).where(
                    HouseholdContact.user_id == village.id
                )
            ).scalars()
        )
        target = db.session.execute(
            sa.select(Household.id)
            .where(
                Household.town_id == town,
                Household.id.not_in(linked),
                Household.status == "registered",
            )
            .order_by(Household.number)
            .limit(1)
        ).scalar_one()
        with as_user(officer, "town_officer"), trail.acting_as(trail.system_actor("test")):
            contact = db.session.execute(
                sa.select(Contact).where(Contact.user_id == village.id)
            ).scalar_one()
            operations.assign(officer, target, contact.id)
            assert (
                db.session.execute(
                    sa.select(HouseholdContact.id).where(
                        HouseholdContact.user_id == village.id,
                        HouseholdContact.household_id == target,
                    )
                ).scalar()
                is not None
            )  # the account now sees the household
            new = operations.add_contact(
                officer, name="李测试", role="village_cadre", phone="13912345678"
            )
            assert new.town_id == town and new.phone_index
            ended = operations.deactivate_contact(officer, contact.id, "退休")
            assert ended == len(linked) + 1
            assert count_of(HouseholdContact, HouseholdContact.user_id == village.id) == 0
            history = (
                db.session.execute(sa.select(Assignment).where(Assignment.contact_id == contact.id))
                .scalars()
                .all()
            )
            assert history and all(a.ended_on and a.end_reason == "退休" for a in history)
            db.session.commit()  # the trail writes its events on commit
        events = (
            db.session.execute(sa.select(AuditEvent).where(AuditEvent.entity_type == "Contact"))
            .scalars()
            .all()
        )
        text = " ".join(e.changes + e.summary for e in events)
        assert "13912345678" not in text and "李测试" in text
