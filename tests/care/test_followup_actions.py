"""A visit that needs follow-up becomes an action item of a meeting's decision (or is
linked to one): on the lead's care follow-ups page of the meeting, audited, refused with
the message beside the field, 404 for a visit without follow-up or out of scope."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from tests.meetings.helpers import acting_as


def _setup(app) -> dict[str, uuid.UUID]:  # type: ignore[no-untyped-def]
    """A new meeting with a decision and an open action item of its own, two visits
    asking for follow-up and one that does not, in 开封."""
    from portal.care import operations
    from portal.care.models import Visit
    from portal.extensions import db
    from portal.kernel.grants import SYSTEM
    from portal.meetings import arrangement, decisions
    from portal.register.models import Household
    from portal.tenancy.models import Department

    with acting_as(app, "kaifeng-lead") as lead:
        m = arrangement.create_meeting(
            lead,
            arrangement.MeetingInput(kind="regular", period="2026H2", meeting_date="2027-01-15"),
        )
        d = decisions.add_decision(lead, m, "做好特殊家庭关怀跟进")
        hid = db.session.execute(
            sa.select(Household.id).order_by(Household.number).limit(1)
        ).scalar_one()
        visits = [
            operations.record_visit(
                SYSTEM,
                hid,
                visited_on="2026-06-01",
                kind="home",
                follow_up=True,
                follow_up_note=note,
            ).id
            for note in ("房屋漏雨需维修", "需协调住院床位")
        ]
        plain = db.session.execute(
            sa.select(Visit.id).where(Visit.follow_up.is_(False)).limit(1)
        ).scalar_one()
        dept = db.session.execute(sa.select(Department.id).order_by(Department.name)).scalars()
        first, second = list(dept)[:2]
        (own,) = decisions.add_action_items(
            lead, d, decisions.ActionInput("统筹协调关怀事项", [str(first)], "2027-03-31")
        )
        db.session.commit()
        return {
            "meeting": m.id,
            "decision": d.id,
            "visit": visits[0],
            "visit2": visits[1],
            "plain": plain,
            "item": own.id,
            "first": first,
            "second": second,
        }


def test_lead_turns_a_follow_up_into_an_action_item_and_links_another(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.meetings.models import ActionItem

    ids = _setup(fresh_app)
    meeting_id, decision_id, visit_id = ids["meeting"], ids["decision"], ids["visit"]
    first, second = str(ids["first"]), str(ids["second"])
    b = login_as("kaifeng-lead", fresh_app)
    page_url = f"/t/kaifeng/meetings/{meeting_id}/care-followups"
    page = b.get(page_url).get_data(as_text=True)
    assert f'id="visit-{visit_id}"' in page and "房屋漏雨需维修" in page
    # no department: refused beside the field, the text kept, nothing written
    r = b.post(
        f"{page_url}/{visit_id}",
        {"decision_id": str(decision_id), "action_text": "维修房屋", "due_date": "2027-03-31"},
        csrf_from=page_url,
    )
    assert r.status_code == 400 and "维修房屋" in r.get_data(as_text=True)
    r = b.post(
        f"{page_url}/{visit_id}",
        {
            "decision_id": str(decision_id),
            "action_text": "维修房屋",
            "due_date": "2027-03-31",
            "departments": [first, second],
        },
        csrf_from=page_url,
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:400]
    with acting_as(fresh_app, "kaifeng-lead"):
        items = list(
            db.session.execute(sa.select(ActionItem).where(ActionItem.visit_id == visit_id))
            .unique()
            .scalars()
        )
        assert len(items) == 2 and {i.text for i in items} == {"维修房屋"}
        audited = db.session.execute(
            sa.select(AuditEvent.changes).where(
                AuditEvent.entity_type == "ActionItem",
                AuditEvent.entity_id == str(items[0].id),
                AuditEvent.action == "create",
            )
        ).scalar_one()
        assert str(visit_id) in audited
        made = items[0].id
    # the visit now shows its items instead of the form
    page = b.get(page_url).get_data(as_text=True)
    assert "维修房屋" in page
    # a visit without follow-up, and a made-up one: 404
    for other in (ids["plain"], uuid.uuid4()):
        r = b.post(
            f"{page_url}/{other}",
            {"decision_id": str(decision_id), "action_text": "x", "due_date": "2027-03-31"},
            csrf_from=page_url,
        )
        assert r.status_code == 404
    # linking the second visit: an item taking up another visit is refused beside the
    # field; the meeting's own open item is linked (audited as a change of the item)
    link = f"{page_url}/{ids['visit2']}/link"
    r = b.post(link, {"item_id": str(made)}, csrf_from=page_url)
    assert r.status_code == 400 and "error-text" in r.get_data(as_text=True)
    r = b.post(link, {"item_id": str(ids["item"])}, csrf_from=page_url)
    assert r.status_code == 302
    with acting_as(fresh_app, "kaifeng-lead"):
        linked = db.session.execute(
            sa.select(ActionItem.visit_id).where(ActionItem.id == ids["item"])
        ).scalar_one()
        assert linked == ids["visit2"]
        changes = db.session.execute(
            sa.select(AuditEvent.changes).where(
                AuditEvent.entity_id == str(ids["item"]), AuditEvent.action == "update"
            )
        ).scalars()
        assert any("visit_id" in c for c in changes)
    # the other tenant's meeting page is not found; officers cannot open the page
    assert login_as("kaifeng-civil-affairs", fresh_app).get(page_url).status_code in (403, 404)
