"""The eligibility officer's decisions (资格确认): confirm or return a pending request,
or a whole import batch at once. Only a confirmed request changes `Household`/`Person`;
the proposer never decides their own. Nothing here commits: the caller's unit of work does.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.audit import trail
from portal.db import utcnow
from portal.extensions import db
from portal.kernel import rules
from portal.register import models, pii
from portal.register.models import ChangeRequest, Household, Person
from portal.register.operations import district_wide, village_in_town
from portal.register.proposals import id_taken
from portal.register.rules import Conflict, Duplicate, NotFound, RegisterError, can_decide
from portal.tenancy import scope


def _next_number() -> str:
    with district_wide():
        count = db.session.execute(sa.select(sa.func.count(Household.id))).scalar_one()
    return f"T{count + 1:06d}"


def _woman_birth(members: list[dict]) -> dt.date | None:
    for m in members:
        if m["relationship"] in ("principal", "spouse") and m["gender"] == "female":
            return dt.date.fromisoformat(m["birth_date"])
    return None


def _apply_enrol(request: ChangeRequest) -> Household:
    payload = request.payload
    h = payload["household"]
    members = payload["members"]
    for m in members:
        if id_taken(m["id"]["index"]) and not _only_this_request(m["id"]["index"], request):
            raise Duplicate(
                _l("A resident ID number of this request is already in the register."), "members"
            )
    village = village_in_town(h["village_id"], request.town_id)
    household = Household(
        number=_next_number(),
        town_id=village.parent_id,
        village_id=village.id,
        category=models.Category(h["category"]),
        level=h.get("level", ""),
        address=h.get("address", ""),
        head_name=members[0]["name"],
        woman_birth_date=_woman_birth(members),
        registered_on=dt.date.fromisoformat(h["registered_on"]),
    )
    db.session.add(household)
    db.session.flush()
    for i, m in enumerate(members):
        number = pii.unseal(m["id"], "id_number")
        phone = pii.unseal(m.get("phone"), "phone") or None
        db.session.add(
            Person(
                household_id=household.id,
                position=i,
                relationship_=models.Relationship(m["relationship"]),
                name=m["name"],
                id_number=number,
                id_index=pii.blind_index(number, "id_number"),
                birth_date=dt.date.fromisoformat(m["birth_date"]),
                gender=m["gender"],
                phone=phone,
                phone_index=pii.blind_index(phone, "phone") if phone else None,
                disability_grade=m.get("disability_grade", ""),
            )
        )
    return household


def _only_this_request(index: str, request: ChangeRequest) -> bool:
    """The only holder of the index is this pending request itself."""
    with district_wide():
        in_register = db.session.execute(
            sa.select(Person.id).where(Person.id_index == index).limit(1)
        ).first()
        if in_register is not None:
            return False
        others = db.session.execute(
            sa.select(ChangeRequest.id).where(
                ChangeRequest.status == models.RequestStatus.pending,
                ChangeRequest.id != request.id,
                sa.cast(ChangeRequest.payload, sa.Text).contains(index),
            )
        ).first()
        return others is None


def _apply_change(request: ChangeRequest, household: Household) -> dict:
    applied: dict[str, Any] = {}
    for key, value in request.payload.get("household", {}).items():
        if key == "village_id":
            village = village_in_town(value, household.town_id)
            applied[key] = {"before": str(household.village_id), "after": value}
            household.village_id = village.id
        else:
            applied[key] = {"before": getattr(household, key), "after": value}
            setattr(household, key, value)
    persons = {str(p.id): p for p in household.persons}
    for m in request.payload.get("members", []):
        person = persons.get(m["person_id"])
        if person is None:
            continue
        if m.get("phone"):
            phone = pii.unseal(m["phone"], "phone")
            applied[f"{person.name}.phone"] = {
                "before": pii.mask_phone(person.phone),
                "after": m["phone"]["masked"],
            }
            person.phone = phone
            person.phone_index = pii.blind_index(phone, "phone")
        if m.get("death_date"):
            person.alive = False
            person.death_date = dt.date.fromisoformat(m["death_date"])
            applied[f"{person.name}.death_date"] = {"before": None, "after": m["death_date"]}
    household.row_version += 1
    return applied


def confirm(user: Any, request: ChangeRequest, row_version: Any) -> Household:
    """资格确认: the eligibility officer confirms; the data counts from now on."""
    if not can_decide(user, request):
        raise RegisterError(
            _l("Only the confirming department decides a pending request, never its proposer.")
        )
    _check_request_version(request, row_version)
    if request.kind == models.RequestKind.enrol:
        household = _apply_enrol(request)
        request.household_id = household.id
        request.changes = {"enrolled": household.number}
    else:
        household = scope.get_scoped(Household, request.household_id)
        if household is None:
            raise NotFound(_l("The household was not found."))
        if request.kind == models.RequestKind.change:
            request.changes = _apply_change(request, household)
        else:
            household.status = models.HouseholdStatus.exited
            household.exit_reason = models.ExitReason(request.payload["exit_reason"])
            household.exit_date = dt.date.fromisoformat(request.payload["exit_date"])
            household.row_version += 1
            request.changes = {"status": {"before": "registered", "after": "exited"}}
    _decided(user, request, models.RequestStatus.confirmed)
    db.session.flush()
    return household


def return_request(user: Any, request: ChangeRequest, reason: str, row_version: Any) -> None:
    if not can_decide(user, request):
        raise RegisterError(
            _l("Only the confirming department decides a pending request, never its proposer.")
        )
    _check_request_version(request, row_version)
    reason = (reason or "").strip()
    if not reason:
        raise RegisterError(_l("Say why the request is returned."), "reason")
    request.reason = reason[:2000]
    _decided(user, request, models.RequestStatus.returned)
    db.session.flush()


def _check_request_version(request: ChangeRequest, expected: Any) -> None:
    rules.check_version(
        request,
        expected,
        lambda: Conflict(_l("The request was decided or changed after you opened it.")),
    )


def _decided(user: Any, request: ChangeRequest, status: models.RequestStatus) -> None:
    request.status = status
    request.decided_by_id = user.id
    request.decided_by_name = user.display_name
    request.decided_at = utcnow()
    request.row_version += 1


def confirm_batch(user: Any, batch: str) -> int:
    """Confirm every pending request of one import at once (a district's first load)."""
    requests = (
        db.session.execute(
            sa.select(ChangeRequest).where(
                ChangeRequest.batch == batch, ChangeRequest.status == models.RequestStatus.pending
            )
        )
        .scalars()
        .all()
    )
    if not requests:
        raise NotFound(_l("The batch has no pending requests."))
    for request in requests:
        confirm(user, request, request.row_version)
    trail.record(
        db.session,
        "register_batch_confirmed",
        entity_type="ChangeRequestBatch",
        entity_id=batch,
        summary=f"{len(requests)} requests confirmed",
        data={"batch": batch, "count": len(requests)},
    )
    return len(requests)
