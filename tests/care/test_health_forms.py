"""The family-doctor contract and check-up forms on a household's care tab: saved and
audited, refused with the message beside the field and the input kept, edited in place,
404 outside the officer's town and for roles without the grant."""

from __future__ import annotations

import json

import sqlalchemy as sa

from tests.care.helpers import district
from tests.register.helpers import households_by_town


def _members(app, hid):  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.register.models import Person

    with district(app, "kaifeng"):
        return [
            p
            for p in db.session.execute(
                sa.select(Person.id).where(Person.household_id == hid, Person.alive.is_(True))
            ).scalars()
        ]


def _audited(app, entity_type: str, entity_id) -> list[str]:  # type: ignore[no-untyped-def]
    from portal.audit.models import AuditEvent
    from portal.extensions import db

    with district(app, "kaifeng"):
        return list(
            db.session.execute(
                sa.select(AuditEvent.action).where(
                    AuditEvent.entity_type == entity_type,
                    AuditEvent.entity_id == str(entity_id),
                )
            ).scalars()
        )


class _Tab:
    """The town officer on the care tab of the first household of their town."""

    def __init__(self, app, login_as) -> None:  # type: ignore[no-untyped-def]
        self.hid = next(iter(households_by_town(app).values()))[0]
        self.pid = _members(app, self.hid)[0]
        self.path = f"/t/kaifeng/care/households/{self.hid}"
        self.b = login_as("kaifeng-town1", app)

    def post(self, form: str, status: int, kept: str = "", **data: str) -> str:
        """Post one form with the member; the status, and on a refusal the input kept."""
        r = self.b.post(
            f"{self.path}/{form}", {"person_id": str(self.pid), **data}, csrf_from=self.path
        )
        body = r.get_data(as_text=True)
        assert r.status_code == status, body[:400]
        assert kept in body
        return body


def test_town_officer_signs_edits_and_declines_a_contract(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.care.models import DoctorContract
    from portal.extensions import db

    tab = _Tab(fresh_app, login_as)
    page = tab.b.get(tab.path).get_data(as_text=True)
    assert 'id="contract"' in page and 'id="checkup"' in page
    # a broken rule: the message beside the field, the input kept, nothing written
    clinic = "城关社区卫生服务中心"
    body = tab.post("contracts", 400, clinic, doctor="", institution=clinic)
    assert body.index("error-text", body.index('id="doctor"')) < body.index(
        'id="contract-institution"'
    )
    signed = {"doctor": "王医生", "institution": clinic, "signed_on": "2026-03-01"}
    tab.post("contracts", 400, "王医生", renewed_on="2026-01-01", **signed)
    tab.post("contracts", 302, **signed)
    edit = tab.b.get(f"{tab.path}?contract={tab.pid}").get_data(as_text=True)
    assert 'value="王医生"' in edit and 'value="2026-03-01"' in edit
    # declining needs a reason; with one, the same row records the refusal
    tab.post("contracts", 400, declined="1")
    tab.post("contracts", 302, declined="1", declined_reason="已在外地签约")
    with district(fresh_app, "kaifeng"):
        rows = db.session.execute(
            sa.select(DoctorContract).where(DoctorContract.person_id == tab.pid)
        ).scalars()
        (contract,) = rows
        assert contract.declined and contract.declined_reason == "已在外地签约"
        contract_id = contract.id
    events = _audited(fresh_app, "DoctorContract", contract_id)  # signed, then declined
    assert len(events) >= 2 and set(events) <= {"create", "update"}
    # another town's household: 404; a member of another household: refused by the field
    other = list(households_by_town(fresh_app).values())[1][0]
    r = tab.b.post(
        f"/t/kaifeng/care/households/{other}/contracts",
        {"person_id": str(tab.pid), **signed},
        csrf_from=tab.path,
    )
    assert r.status_code == 404
    tab.pid = other
    tab.post("contracts", 400, **signed)


def test_checkup_recorded_corrected_and_refused(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.care.models import Checkup
    from portal.extensions import db

    tab = _Tab(fresh_app, login_as)
    hospital = "区人民医院"
    tab.post("checkups", 400, hospital, done_on="2099-01-01", institution=hospital)
    tab.post("checkups", 302, done_on="2026-05-02", institution=hospital)
    with district(fresh_app, "kaifeng"):
        checkup_id = db.session.execute(
            sa.select(Checkup.id).where(
                Checkup.person_id == tab.pid, Checkup.institution == hospital
            )
        ).scalar_one()
    edit = tab.b.get(f"{tab.path}?checkup={checkup_id}").get_data(as_text=True)
    assert f'value="{checkup_id}"' in edit and 'value="2026-05-02"' in edit
    tab.post(
        "checkups", 302, checkup_id=str(checkup_id), done_on="2026-05-03", institution=hospital
    )
    with district(fresh_app, "kaifeng"):
        done = db.session.execute(sa.select(Checkup.done_on).where(Checkup.id == checkup_id))
        assert done.scalar_one().isoformat() == "2026-05-03"
    assert {"create", "update"} <= set(_audited(fresh_app, "Checkup", checkup_id))


def test_village_contact_and_lead_cannot_record_health(app, login_as) -> None:  # type: ignore[no-untyped-def]
    hid = next(iter(households_by_town(app).values()))[0]
    path = f"/t/kaifeng/care/households/{hid}"
    for user in ("kaifeng-lead", "kaifeng-village1"):
        b = login_as(user, app)
        page = b.get(path)
        assert 'id="contract"' not in page.get_data(as_text=True)
        r = b.post(f"{path}/checkups", {"done_on": "2026-05-02"}, csrf_from="/t/kaifeng/")
        assert r.status_code == 404


def _one_checkup_this_year(app, town_officer: str, slug: str):  # type: ignore[no-untyped-def]
    """A check-up of this year in the officer's town whose member had no other one this
    year: deleting it takes exactly one member off the check-up completion figure."""
    from portal.care import rules
    from portal.care.models import Checkup
    from portal.extensions import db
    from portal.register.models import Household
    from tests.care.helpers import officer_town, user_named

    with district(app, slug):
        town = officer_town(user_named(town_officer))
        year_start = rules.today().replace(month=1, day=1)
        single = (
            sa.select(Checkup.person_id)
            .where(Checkup.done_on >= year_start)
            .group_by(Checkup.person_id)
            .having(sa.func.count() == 1)
        )
        row = db.session.execute(
            sa.select(Checkup.id, Checkup.household_id, Checkup.institution)
            .join(Household, Household.id == Checkup.household_id)
            .where(
                Household.town_id == town,
                Checkup.done_on >= year_start,
                Checkup.person_id.in_(single),
            )
            .order_by(Checkup.id)
            .limit(1)
        ).one()
    return row


def _checkups_done(app, slug: str) -> int:  # type: ignore[no-untyped-def]
    from portal.care import queries

    with district(app, slug):
        return queries.coverage().district.checkup_done


def test_checkup_deleted_with_reason_after_confirmation(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    """Correct-by-delete: a confirmation page first, a reason required, the figures drop
    the check-up, the audit trail keeps the row and the reason (labelled in Chinese)."""
    from portal.audit.models import AuditEvent
    from portal.audit.vocabulary import action_label
    from portal.care.models import Checkup
    from portal.extensions import db

    checkup_id, hid, institution = _one_checkup_this_year(fresh_app, "zhangdian-town1", "zhangdian")
    before = _checkups_done(fresh_app, "zhangdian")
    b = login_as("zhangdian-town1", fresh_app)
    tab = f"/t/zhangdian/care/households/{hid}"
    confirm = f"{tab}/checkups/{checkup_id}/delete"
    assert confirm in b.get(tab).get_data(as_text=True)  # the tab links to the confirmation
    page = b.get(confirm).get_data(as_text=True)
    assert 'id="checkup-delete-form"' in page and "删除原因" in page
    # no reason: the same page, 400, nothing deleted
    r = b.post(confirm, {"reason": "  "})
    assert r.status_code == 400 and 'role="alert"' in r.get_data(as_text=True)
    # without the CSRF token: refused, nothing deleted
    r = b.client.post(confirm, data={"reason": "录错"})
    assert r.status_code == 400
    assert _checkups_done(fresh_app, "zhangdian") == before
    r = b.post(confirm, {"reason": "成员选错，实为其配偶体检"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"{tab}#checkups")
    with district(fresh_app, "zhangdian"):
        gone = sa.select(Checkup.id).where(Checkup.id == checkup_id)
        assert db.session.execute(gone).scalar() is None
        events = {
            e.action: e
            for e in db.session.execute(
                sa.select(AuditEvent).where(
                    AuditEvent.entity_type == "Checkup", AuditEvent.entity_id == str(checkup_id)
                )
            ).scalars()
        }
        reason = json.loads(events["checkup_deleted"].changes)["reason"]
        assert reason == "成员选错，实为其配偶体检"
        assert json.loads(events["delete"].changes)["institution"]["before"] == institution
        from flask_babel import force_locale

        with fresh_app.test_request_context(), force_locale("zh_Hans_CN"):
            assert str(action_label("checkup_deleted")) == "删除体检记录（附原因）"
    assert _checkups_done(fresh_app, "zhangdian") == before - 1
    # gone: its confirmation page is 404
    assert b.get(confirm).status_code == 404


def test_checkup_delete_is_404_out_of_scope_and_without_the_grant(app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.care.models import Checkup
    from portal.extensions import db

    checkup_id, hid, _inst = _one_checkup_this_year(app, "zhangdian-town1", "zhangdian")
    confirm = f"/t/zhangdian/care/households/{hid}/checkups/{checkup_id}/delete"
    for user in ("zhangdian-lead", "zhangdian-village1", "zhangdian-auditor"):
        b = login_as(user, app)
        assert b.get(confirm).status_code == 404, user
        r = b.post(confirm, {"reason": "x"}, csrf_from="/t/zhangdian/")
        assert r.status_code == 404, user
    # another town's officer: the household is out of scope
    with district(app, "zhangdian"):
        from portal.auth.models import User

        others = db.session.execute(
            sa.select(User.username).where(
                User.role == "town_officer", User.username != "zhangdian-town1"
            )
        ).scalars()
        other = next(iter(others), None)
    if other is not None:
        b = login_as(other, app)
        assert b.get(confirm).status_code == 404
    # a check-up of another household in the same URL: 404
    with district(app, "zhangdian"):
        foreign = db.session.execute(
            sa.select(Checkup.id).where(Checkup.household_id != hid).limit(1)
        ).scalar_one()
    b = login_as("zhangdian-town1", app)
    assert b.get(f"/t/zhangdian/care/households/{hid}/checkups/{foreign}/delete").status_code == 404
