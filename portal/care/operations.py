"""Writes of the care domain: one function per user action. Nothing here commits (the
caller's unit of work does) and every row change is captured by the audit trail's flush
hook, phone numbers masked (`Contact.__audit_mask__`).

Which households a user may touch is the scoping hook's answer: a household outside the
user's scope is not found, exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.audit import trail
from portal.care import rules, status
from portal.care.models import (
    Assignment,
    Checkup,
    Contact,
    DoctorContract,
    Visit,
    VisitKind,
    VisitPhoto,
)
from portal.care.rules import CareError, NotFound
from portal.duties import storage
from portal.extensions import db
from portal.kernel.grants import require
from portal.kernel.rules import check_version, clean_date, conflict_with
from portal.policy.care_format import CARE_FESTIVALS, CONTACT_ROLES
from portal.register import pii
from portal.register.models import (
    VILLAGE_CONTACT,
    Household,
    HouseholdContact,
    HouseholdStatus,
    OfficerTown,
    Person,
)
from portal.register.rules import check_phone
from portal.tenancy import scope

PHOTO_TYPES = {"jpg", "jpeg", "png"}
UNCHECKED: Any = object()  # a write whose caller carries no row_version (the pages)
HOUSEHOLD_CHANGED = conflict_with(
    _l("The household was changed in the register since you read it. Read it again and resend.")
)


def _household(household_id: Any) -> Household:
    """The registered household by id, through the scoping hook. A `Household` the caller
    already read through it (the page's 404 check) is taken as is: not read twice."""
    if isinstance(household_id, Household):
        household = household_id
    else:
        household = scope.get_scoped(Household, household_id)
    if household is None or household.status != HouseholdStatus.registered:
        raise NotFound(_l("The household was not found."))
    return household


def _text(value: Any, field: str, limit: int, required: bool = False) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if required and not text:
        raise CareError(_l("This field is required."), field)
    if len(text) > limit:
        raise CareError(_l("At most %(n)s characters.", n=limit), field)
    return text


def _date(value: Any, field: str, required: bool = True) -> dt.date | None:
    return clean_date(value, field, required=required, error=CareError)


def _own_town(user: Any) -> uuid.UUID | None:
    return db.session.execute(
        sa.select(OfficerTown.town_id).where(OfficerTown.user_id == user.id)
    ).scalar()


# -- contact persons -------------------------------------------------------------------


def add_contact(
    user: Any,
    *,
    name: str,
    role: str,
    unit: str = "",
    position: str = "",
    phone: str | None = None,
    contact_user_id: uuid.UUID | None = None,
) -> Contact:
    """A contact person of the officer's town (联系人)."""
    require(user, "care.contacts")
    if role not in CONTACT_ROLES:
        raise CareError(_l("Choose the contact's role."), "role")
    phone = check_phone(phone)
    contact = Contact(
        name=_text(name, "name", 40, required=True),
        role=role,
        unit=_text(unit, "unit", 100),
        position=_text(position, "position", 60),
        phone=phone,
        phone_index=pii.blind_index(phone, "phone") if phone else None,
        town_id=_own_town(user) if getattr(user, "id", None) else None,
        user_id=contact_user_id,
    )
    db.session.add(contact)
    db.session.flush()
    return contact


def deactivate_contact(user: Any, contact_id: Any, reason: str, on: dt.date | None = None) -> int:
    """The contact leaves: every open assignment ends with the reason (history kept)."""
    require(user, "care.contacts")
    contact = scope.get_scoped(Contact, contact_id)
    if contact is None or not contact.active:
        raise NotFound(_l("The contact person was not found."))
    reason = _text(reason, "reason", 200, required=True)
    contact.active = False
    ended = list(
        db.session.execute(
            sa.select(Assignment).where(
                Assignment.contact_id == contact.id, Assignment.ended_on.is_(None)
            )
        ).scalars()
    )
    for a in ended:
        _end(a, contact, on or rules.today(), reason)
    db.session.flush()
    status.touch_for(*ended, persons=False)
    return len(ended)


def _end(a: Assignment, contact: Contact, on: dt.date, reason: str) -> None:
    a.ended_on = on
    a.end_reason = reason
    if contact.user_id is not None:  # the account no longer sees the household
        link = db.session.execute(
            sa.select(HouseholdContact).where(
                HouseholdContact.user_id == contact.user_id,
                HouseholdContact.household_id == a.household_id,
            )
        ).scalar()
        if link is not None:
            db.session.delete(link)


def assign(user: Any, household_id: Any, contact_id: Any, on: dt.date | None = None) -> Assignment:
    """Assign a contact person to a household (from `on`, today by default)."""
    require(user, "care.contacts")
    household = _household(household_id)
    contact = scope.get_scoped(Contact, contact_id)
    if contact is None or not contact.active:
        raise NotFound(_l("The contact person was not found."), "contact_id")
    existing = db.session.execute(
        sa.select(Assignment.id).where(
            Assignment.household_id == household.id,
            Assignment.contact_id == contact.id,
            Assignment.ended_on.is_(None),
        )
    ).scalar()
    if existing is not None:
        raise CareError(
            _l("This contact person is already assigned to the household."), "contact_id"
        )
    a = Assignment(contact_id=contact.id, household_id=household.id, started_on=on or rules.today())
    db.session.add(a)
    if contact.user_id is not None:
        db.session.add(HouseholdContact(user_id=contact.user_id, household_id=household.id))
    db.session.flush()
    status.touch_for(a, persons=False)
    return a


def reassign(
    user: Any, assignment_id: Any, new_contact_id: Any, reason: str, on: dt.date | None = None
) -> Assignment:
    """End one assignment with a reason and give the household another contact."""
    require(user, "care.contacts")
    a = scope.get_scoped(Assignment, assignment_id)
    if a is None or a.ended_on is not None:
        raise NotFound(_l("The assignment was not found."))
    reason = _text(reason, "reason", 200, required=True)
    old = scope.get_scoped(Contact, a.contact_id)
    day = on or rules.today()
    _end(a, old, day, reason) if old is not None else None
    db.session.flush()
    return assign(user, a.household_id, new_contact_id, day)


# -- family doctors and check-ups -------------------------------------------------------


def _person(household: Household, person_id: Any) -> Person:
    person = scope.get_scoped(Person, person_id)
    if person is None or person.household_id != household.id:
        raise NotFound(_l("The member was not found."), "person_id")
    return person


def record_contract(
    user: Any,
    household_id: Any,
    person_id: Any,
    *,
    doctor: str = "",
    institution: str = "",
    signed_on: Any = None,
    renewed_on: Any = None,
    declined_reason: str = "",
    declined: bool | None = None,
) -> DoctorContract:
    """A person's family-doctor contract, its renewal, or the person's refusal (with why).
    One row per person: recording again edits it. `declined` (the form's box) needs a
    reason; without the flag a reason alone means a refusal."""
    require(user, "care.health")
    household = _household(household_id)
    person = _person(household, person_id)
    contract = db.session.execute(
        sa.select(DoctorContract).where(DoctorContract.person_id == person.id)
    ).scalar()
    if contract is None:
        contract = DoctorContract(household_id=household.id, person_id=person.id)
        db.session.add(contract)
    declined_reason = _text(declined_reason, "declined_reason", 200, required=bool(declined))
    if declined_reason and declined is not False:
        contract.declined, contract.declined_reason = True, declined_reason
    else:
        contract.doctor = _text(doctor, "doctor", 40, required=True)
        contract.institution = _text(institution, "institution", 100, required=True)
        contract.signed_on = _date(signed_on, "signed_on")
        contract.renewed_on = _date(renewed_on, "renewed_on", required=False)
        if contract.renewed_on and contract.signed_on and contract.renewed_on < contract.signed_on:
            raise CareError(_l("Renewal cannot be before signing."), "renewed_on")
        contract.declined, contract.declined_reason = False, ""
    db.session.flush()
    status.touch_for(contract)
    return contract


def record_checkup(
    user: Any,
    household_id: Any,
    person_id: Any,
    done_on: Any,
    institution: str = "",
    note: str = "",
    checkup_id: Any = None,
) -> Checkup:
    """A check-up a member had (体检); with `checkup_id`, a correction of that record."""
    require(user, "care.health")
    household = _household(household_id)
    person = _person(household, person_id)
    day = _date(done_on, "done_on")
    if day > rules.today():
        raise CareError(_l("The date cannot be in the future."), "done_on")
    if checkup_id:
        checkup = scope.get_scoped(Checkup, checkup_id)
        if checkup is None or checkup.household_id != household.id:
            raise NotFound(_l("The check-up was not found."))
    else:
        checkup = Checkup(household_id=household.id)
        db.session.add(checkup)
    checkup.person_id = person.id
    checkup.done_on = day
    checkup.institution = _text(institution, "institution", 100)
    checkup.note = _text(note, "note", 2000)
    db.session.flush()
    status.touch_for(checkup, households=False)
    return checkup


def delete_checkup(user: Any, household_id: Any, checkup_id: Any, reason: str) -> Checkup:
    """Correct-by-delete: a check-up recorded by mistake (the wrong member, one that never
    took place) is removed, with the reason why. The audit trail keeps the reason (event
    `checkup_deleted`) beside the row's before-values (its `delete` event), so the figures
    drop the check-up and the record of it stays. Who may record check-ups may delete them."""
    require(user, "care.health")
    household = _household(household_id)
    checkup = scope.get_scoped(Checkup, checkup_id)
    if checkup is None or checkup.household_id != household.id:
        raise NotFound(_l("The check-up was not found."))
    reason = _text(reason, "reason", 200, required=True)
    trail.record_on(
        checkup,
        "checkup_deleted",
        summary=f"{household.number} {checkup.done_on.isoformat()}",
        data={
            "reason": reason,
            "household_id": household.id,
            "person_id": checkup.person_id,
            "done_on": checkup.done_on,
        },
    )
    db.session.delete(checkup)
    db.session.flush()
    status.touch_for(checkup, households=False)
    return checkup


# -- visits ----------------------------------------------------------------------------


def record_visit(
    user: Any,
    household_id: Any,
    *,
    visited_on: Any,
    kind: str,
    festival: str = "",
    companions: str = "",
    findings: str = "",
    follow_up: bool = False,
    follow_up_note: str = "",
    photos: list[storage.Upload] | None = None,
    expected_version: Any = UNCHECKED,
) -> Visit:
    """A visit, call or festival greeting (走访/慰问) with its findings and photos.

    `expected_version` (the JSON API's writes carry it): the household's `row_version`
    the client read; missing → refused (400), stale → conflict (409). The pages post
    from the household's own tab and leave it unchecked."""
    require(user, "care.visit")
    household = _household(household_id)
    if expected_version is not UNCHECKED:
        check_version(household, expected_version, HOUSEHOLD_CHANGED)
    try:
        kind_ = VisitKind(kind)
    except ValueError:
        raise CareError(_l("Choose the kind of visit."), "kind") from None
    day = rules.check_visit_date(_date(visited_on, "visited_on"))
    festival = festival or ""
    if kind_ == VisitKind.festival:
        if festival not in CARE_FESTIVALS:
            raise CareError(_l("Choose the festival."), "festival")
    elif festival:
        raise CareError(_l("Only a festival visit names a festival."), "festival")
    follow_up_note = _text(follow_up_note, "follow_up_note", 2000)
    if follow_up and not follow_up_note:
        raise CareError(_l("Say what needs following up."), "follow_up_note")
    # the visitor's own contact row and the household's last visit (which decides
    # whether the visit can move a figure, `status.visit_recorded`): one statement
    mine = (
        sa.select(Contact.id)
        .where(
            Contact.tenant_id == household.tenant_id,
            Contact.user_id == user.id,
            Contact.active.is_(True),
        )
        .limit(1)
        .scalar_subquery()
        if getattr(user, "id", None)
        else sa.null()
    )
    contact_id, last_visit_on = db.session.execute(
        sa.select(mine, status.last_visit_on(household.tenant_id, household.id))
    ).one()
    visit = Visit(
        household_id=household.id,
        visited_on=day,
        kind=kind_,
        festival=festival,
        festival_year=festival_year(festival, day) if festival else None,
        contact_id=contact_id,
        visitor_name=getattr(user, "display_name", None) or getattr(user, "username", "") or "",
        companions=_text(companions, "companions", 200),
        findings=_text(findings, "findings", 4000),
        follow_up=bool(follow_up),
        follow_up_note=follow_up_note if follow_up else "",
        recorded_by_id=getattr(user, "id", None),
    )
    db.session.add(visit)
    db.session.flush()
    if photos:
        for upload in photos:
            _photo(visit, upload)
        db.session.flush()
    status.visit_recorded(visit, last_visit_on)
    return visit


def festival_year(festival: str, day: dt.date) -> int:
    """The year whose festival a visit is for: a December visit before 春节 greets the
    coming year's (春节 falls between 21 January and 20 February)."""
    return day.year + 1 if festival == "spring_festival" and day.month == 12 else day.year


def _photo(visit: Visit, upload: storage.Upload) -> VisitPhoto:
    if (upload.filename or "").rsplit(".", 1)[-1].lower() not in PHOTO_TYPES:
        raise CareError(_l("A photo must be a .jpg or .png file."), "photos")
    photo = VisitPhoto(
        visit_id=visit.id,
        household_id=visit.household_id,
        **storage.saved(visit.tenant_id, upload, "care"),
    )
    db.session.add(photo)
    return photo


__all__ = [
    "VILLAGE_CONTACT",
    "add_contact",
    "assign",
    "deactivate_contact",
    "delete_checkup",
    "reassign",
    "record_checkup",
    "record_contract",
    "record_visit",
]


def record_roster_export(rows: int) -> None:
    """The roster export is an audit event (masked phones; its row count)."""
    from portal.audit import trail

    trail.record(
        db.session,
        "care_roster_exported",
        entity_type="Contact",
        summary=f"contact roster: {rows} households",
        data={"rows": rows, "masked": True},
    )
