"""The family-doctor contract and check-up forms on a household's care tab: saved and
audited, refused with the message beside the field and the input kept, edited in place,
404 outside the officer's town and for roles without the grant."""

from __future__ import annotations

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


def test_town_officer_signs_edits_and_declines_a_contract(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.care.models import DoctorContract
    from portal.extensions import db

    town = households_by_town(fresh_app)
    hid = next(iter(town.values()))[0]
    pid = _members(fresh_app, hid)[0]
    person = str(pid)
    path = f"/t/kaifeng/care/households/{hid}"
    b = login_as("kaifeng-town1", fresh_app)
    page = b.get(path).get_data(as_text=True)
    assert 'id="contract"' in page and 'id="checkup"' in page
    # a broken rule: the message beside the field, the input kept, nothing written
    r = b.post(
        f"{path}/contracts",
        {"person_id": person, "doctor": "", "institution": "城关社区卫生服务中心"},
        csrf_from=path,
    )
    body = r.get_data(as_text=True)
    assert r.status_code == 400 and "城关社区卫生服务中心" in body
    assert 'id="doctor"' in body and body.index("error-text", body.index('id="doctor"')) < (
        body.index('id="contract-institution"')
    )
    r = b.post(
        f"{path}/contracts",
        {
            "person_id": person,
            "doctor": "王医生",
            "institution": "城关社区卫生服务中心",
            "signed_on": "2026-03-01",
            "renewed_on": "2026-01-01",
        },
        csrf_from=path,
    )
    assert r.status_code == 400 and "王医生" in r.get_data(as_text=True)
    r = b.post(
        f"{path}/contracts",
        {
            "person_id": person,
            "doctor": "王医生",
            "institution": "城关社区卫生服务中心",
            "signed_on": "2026-03-01",
        },
        csrf_from=path,
    )
    assert r.status_code == 302
    edit = b.get(f"{path}?contract={person}").get_data(as_text=True)
    assert 'value="王医生"' in edit and 'value="2026-03-01"' in edit
    # declining needs a reason; with one, the same row records the refusal
    r = b.post(f"{path}/contracts", {"person_id": person, "declined": "1"}, csrf_from=path)
    assert r.status_code == 400
    r = b.post(
        f"{path}/contracts",
        {"person_id": person, "declined": "1", "declined_reason": "已在外地签约"},
        csrf_from=path,
    )
    assert r.status_code == 302
    with district(fresh_app, "kaifeng"):
        rows = db.session.execute(
            sa.select(DoctorContract).where(DoctorContract.person_id == pid)
        ).scalars()
        (contract,) = rows
        assert contract.declined and contract.declined_reason == "已在外地签约"
        contract_id = contract.id
    events = _audited(fresh_app, "DoctorContract", contract_id)  # signed, then declined
    assert len(events) >= 2 and set(events) <= {"create", "update"}
    # another town's household and a foreign member: 404 / refused beside the field
    other = list(town.values())[1][0]
    r = b.post(
        f"/t/kaifeng/care/households/{other}/contracts",
        {"person_id": person, "doctor": "x", "institution": "y", "signed_on": "2026-03-01"},
        csrf_from=path,
    )
    assert r.status_code == 404
    r = b.post(
        f"{path}/contracts",
        {"person_id": str(other), "doctor": "x", "institution": "y", "signed_on": "2026-03-01"},
        csrf_from=path,
    )
    assert r.status_code == 400


def test_checkup_recorded_corrected_and_refused(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.care.models import Checkup
    from portal.extensions import db

    hid = next(iter(households_by_town(fresh_app).values()))[0]
    pid = _members(fresh_app, hid)[0]
    person = str(pid)
    path = f"/t/kaifeng/care/households/{hid}"
    b = login_as("kaifeng-town1", fresh_app)
    r = b.post(
        f"{path}/checkups",
        {"person_id": person, "done_on": "2099-01-01", "institution": "区人民医院"},
        csrf_from=path,
    )
    assert r.status_code == 400 and "区人民医院" in r.get_data(as_text=True)
    r = b.post(
        f"{path}/checkups",
        {"person_id": person, "done_on": "2026-05-02", "institution": "区人民医院"},
        csrf_from=path,
    )
    assert r.status_code == 302
    with district(fresh_app, "kaifeng"):
        checkup = db.session.execute(
            sa.select(Checkup).where(Checkup.person_id == pid, Checkup.institution == "区人民医院")
        ).scalar_one()
        checkup_id = checkup.id
    edit = b.get(f"{path}?checkup={checkup_id}").get_data(as_text=True)
    assert f'value="{checkup_id}"' in edit and 'value="2026-05-02"' in edit
    r = b.post(
        f"{path}/checkups",
        {
            "checkup_id": str(checkup_id),
            "person_id": person,
            "done_on": "2026-05-03",
            "institution": "区人民医院",
        },
        csrf_from=path,
    )
    assert r.status_code == 302
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
