"""Writes on the register: one function per user action. Nothing here commits — the
caller's unit of work does — and every row change is captured by the audit trail's
flush hook; explicit events (reveal, export, import) are recorded here.

Only confirmed data reaches `Household`/`Person`: a town officer's enrolment, change or
exit is a `ChangeRequest` until the eligibility officer confirms it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.audit import trail
from portal.db import utcnow
from portal.extensions import db
from portal.kernel import rules
from portal.kernel.grants import require
from portal.register import pii
from portal.register.models import (
    Area,
    AreaKind,
    Category,
    ChangeRequest,
    ExitReason,
    Household,
    HouseholdStatus,
    OfficerTown,
    Person,
    Relationship,
    RequestKind,
    RequestStatus,
)
from portal.register.rules import (
    Conflict,
    Duplicate,
    NotFound,
    RegisterError,
    can_decide,
    check_id_number,
    check_phone,
    today,
)
from portal.tenancy import scope

# -- scope helpers ---------------------------------------------------------------------


@contextlib.contextmanager
def district_wide() -> Iterator[None]:
    """The whole district, whoever asks: only for checks that answer yes/no (duplicates,
    numbering), never to show rows."""
    current = scope.current()
    token = scope.set_scope(
        dataclasses.replace(current, user_id=None, role=None, department_id=None)
    )
    try:
        yield
    finally:
        scope.reset_scope(token)


def officer_town_id(user: Any) -> uuid.UUID | None:
    return db.session.execute(
        sa.select(OfficerTown.town_id).where(OfficerTown.user_id == user.id)
    ).scalar()


# -- areas -----------------------------------------------------------------------------


def add_area(name: str, kind: AreaKind, parent: Area | None = None) -> Area:
    name = (name or "").strip()
    if not name:
        raise RegisterError(_l("A name is required."), "name")
    if len(name) > 80:
        raise RegisterError(_l("The name is too long (80 characters at most)."), "name")
    if kind == AreaKind.village and (parent is None or parent.kind != AreaKind.town):
        raise RegisterError(_l("A village belongs to a town."), "parent")
    existing = db.session.execute(
        sa.select(Area).where(
            Area.kind == kind,
            Area.name == name,
            Area.parent_id == parent.id if parent else Area.parent_id.is_(None),
        )
    ).scalar()
    if existing is not None:
        return existing
    area = Area(kind=kind, name=name, parent_id=parent.id if parent else None)
    db.session.add(area)
    db.session.flush()
    return area


def import_areas(rows: list[tuple[str, str]]) -> tuple[int, int]:
    """Two columns, town and village; returns (towns, villages) added or found."""
    towns: dict[str, Area] = {}
    villages = 0
    for town_name, village_name in rows:
        town_name, village_name = (town_name or "").strip(), (village_name or "").strip()
        if not town_name:
            continue
        town = towns.get(town_name) or add_area(town_name, AreaKind.town)
        towns[town_name] = town
        if village_name:
            add_area(village_name, AreaKind.village, town)
            villages += 1
    return len(towns), villages


# -- proposing -------------------------------------------------------------------------


def _village_in_town(village_id: Any, town_id: uuid.UUID | None) -> Area:
    village = scope.get_scoped(Area, village_id)
    if village is None or village.kind != AreaKind.village:
        raise RegisterError(_l("Choose a village of the district."), "village_id")
    if town_id is not None and village.parent_id != town_id:
        raise RegisterError(_l("The village is not in your town."), "village_id")
    return village


def _date(value: Any, field: str, required: bool = True) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if not value:
        if required:
            raise RegisterError(_l("A date is required."), field)
        return None
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise RegisterError(_l("Enter the date as YYYY-MM-DD."), field) from None


def _enum(cls: Any, value: Any, field: str) -> Any:
    try:
        return cls(value)
    except ValueError:
        raise RegisterError(_l("Choose one of the listed values."), field) from None


def id_taken(index: str, except_household: uuid.UUID | None = None) -> bool:
    """The ID (by blind index, any key of the ring) is in a household of the district or
    in a pending request — whichever town, whatever the asker may see."""
    with district_wide():
        stmt = sa.select(Person.id).where(Person.id_index == index).limit(1)
        if except_household is not None:
            stmt = stmt.where(Person.household_id != except_household)
        if db.session.execute(stmt).first() is not None:
            return True
        pending = sa.select(ChangeRequest.id).where(
            ChangeRequest.status == RequestStatus.pending,
            ChangeRequest.kind == RequestKind.enrol,
            sa.cast(ChangeRequest.payload, sa.Text).contains(index),
        )
        return db.session.execute(pending.limit(1)).first() is not None


def id_indexes_taken(indexes: list[str]) -> set[str]:
    """Which of many blind indexes the district already holds (imports)."""
    if not indexes:
        return set()
    with district_wide():
        found: set[str] = set()
        for start in range(0, len(indexes), 500):
            chunk = indexes[start : start + 500]
            found |= set(
                db.session.execute(
                    sa.select(Person.id_index).where(Person.id_index.in_(chunk))
                ).scalars()
            )
        return found


def member_payload(raw: dict, position: int, check_duplicates: bool = True) -> dict:
    """One proposed member, validated, with its numbers sealed."""
    prefix = f"members.{position}."
    name = (raw.get("name") or "").strip()
    if not name:
        raise RegisterError(_l("The name is required."), prefix + "name")
    number, born, gender = check_id_number(raw.get("id_number", ""), prefix + "id_number")
    phone = check_phone(raw.get("phone"), prefix + "phone")
    index = pii.blind_index(number, "id_number")
    if check_duplicates and any(id_taken(i) for i in pii.blind_indexes(number, "id_number")):
        raise Duplicate(
            _l(
                "This resident ID number is already in the district's register or a pending request."
            ),
            prefix + "id_number",
        )
    return {
        "relationship": _enum(
            Relationship, raw.get("relationship") or "principal", prefix + "relationship"
        ).value,
        "name": name[:40],
        "id": {**pii.sealed(number, "id_number"), "index": index},
        "phone": pii.sealed(phone, "phone") if phone else None,
        "birth_date": born.isoformat(),
        "gender": gender.value,
        "disability_grade": (raw.get("disability_grade") or "").strip()[:20],
    }


def propose_enrol(
    user: Any, data: dict, batch: str = "", check_duplicates: bool = True
) -> ChangeRequest:
    """A town officer proposes a new household with its members."""
    require(user, "register.propose")
    town_id = officer_town_id(user)
    if town_id is None:
        raise RegisterError(_l("Your account is not bound to a town."))
    village = _village_in_town(data.get("village_id"), town_id)
    request = _enrol_request(user, town_id, village, data, batch, check_duplicates)
    db.session.add(request)
    db.session.flush()
    return request


def propose_enrol_many(
    user: Any,
    items: list[dict],
    batch: str,
    progress: Callable[[int], None] | None = None,
) -> list[ChangeRequest]:
    """Many enrolments of one import (checked already, duplicates included): the same
    rules as `propose_enrol`, with the town and villages looked up once and one flush
    for all (the audit trail captures every row in that flush)."""
    require(user, "register.propose")
    town_id = officer_town_id(user)
    if town_id is None:
        raise RegisterError(_l("Your account is not bound to a town."))
    villages = {
        str(a.id): a
        for a in db.session.execute(
            sa.select(Area).where(Area.kind == AreaKind.village, Area.parent_id == town_id)
        ).scalars()
    }
    made = []
    for done, data in enumerate(items):
        if progress is not None:
            progress(done)
        village = villages.get(str(data.get("village_id") or ""))
        if village is None:
            raise RegisterError(_l("The village is not in your town."), "village_id")
        made.append(_enrol_request(user, town_id, village, data, batch, check_duplicates=False))
    db.session.add_all(made)
    db.session.flush()
    return made


def _enrol_request(
    user: Any, town_id: uuid.UUID, village: Area, data: dict, batch: str, check_duplicates: bool
) -> ChangeRequest:
    category = _enum(Category, data.get("category"), "category")
    registered_on = _date(data.get("registered_on") or today(), "registered_on")
    members_raw = [m for m in data.get("members") or [] if any((m or {}).values())]
    if not members_raw:
        raise RegisterError(_l("Add at least one member."), "members")
    members = [member_payload(m, i, check_duplicates) for i, m in enumerate(members_raw)]
    indexes = [m["id"]["index"] for m in members]
    if len(set(indexes)) != len(indexes):
        raise Duplicate(_l("The same resident ID number is given twice."), "members")
    return ChangeRequest(
        kind=RequestKind.enrol,
        town_id=town_id,
        summary=f"{members[0]['name']} · {village.name}"[:200],
        payload={
            "household": {
                "village_id": str(village.id),
                "category": category.value,
                "level": (data.get("level") or "").strip()[:20],
                "address": (data.get("address") or "").strip()[:200],
                "registered_on": registered_on.isoformat(),  # type: ignore[union-attr]
            },
            "members": members,
        },
        evidence_note=(data.get("evidence_note") or "").strip()[:2000],
        batch=batch,
        proposed_by_id=user.id,
        proposed_by_name=user.display_name,
    )


def _pending_for(household: Household) -> bool:
    return (
        db.session.execute(
            sa.select(ChangeRequest.id).where(
                ChangeRequest.household_id == household.id,
                ChangeRequest.status == RequestStatus.pending,
            )
        ).first()
        is not None
    )


def _open_for_proposal(user: Any, household: Household, row_version: Any) -> None:
    """What every proposal about an existing household needs: the grant, the version the
    form was shown, a registered household and no other pending request."""
    require(user, "register.propose")
    rules.check_version(
        household,
        row_version,
        lambda: Conflict(
            _l("Someone else changed this household after you opened it: reload and try again.")
        ),
    )
    if household.status != HouseholdStatus.registered:
        raise RegisterError(_l("The household has left the register."))
    if _pending_for(household):
        raise Conflict(_l("The household already has a pending request."))


def _household_request(
    user: Any, household: Household, kind: RequestKind, payload: dict, data: dict
) -> ChangeRequest:
    """A proposed change or exit of an existing household, as its proposer sent it."""
    request = ChangeRequest(
        kind=kind,
        household_id=household.id,
        town_id=household.town_id,
        summary=f"{household.number} {household.head_name}"[:200],
        payload=payload,
        evidence_note=(data.get("evidence_note") or "").strip()[:2000],
        proposed_by_id=user.id,
        proposed_by_name=user.display_name,
    )
    db.session.add(request)
    db.session.flush()
    return request


def propose_change(user: Any, household: Household, data: dict, row_version: Any) -> ChangeRequest:
    """Address, level, village, a member's phone or death: confirmed before it counts."""
    _open_for_proposal(user, household, row_version)
    changes: dict[str, Any] = {}
    for key in ("address", "level"):
        if key in data and (data[key] or "").strip() != getattr(household, key):
            changes[key] = (data[key] or "").strip()[: 200 if key == "address" else 20]
    if data.get("village_id") and str(data["village_id"]) != str(household.village_id):
        changes["village_id"] = str(_village_in_town(data["village_id"], household.town_id).id)
    members: list[dict] = []
    persons = {str(p.id): p for p in household.persons}
    for i, m in enumerate(data.get("members") or []):
        person = persons.get(str(m.get("person_id")))
        if person is None:
            raise NotFound(_l("The member was not found."), f"members.{i}")
        entry: dict[str, Any] = {"person_id": str(person.id), "name": person.name}
        phone = check_phone(m.get("phone"), f"members.{i}.phone")
        if phone and phone != person.phone:
            entry["phone"] = pii.sealed(phone, "phone")
        death = _date(m.get("death_date"), f"members.{i}.death_date", required=False)
        if death and person.alive:
            entry["death_date"] = death.isoformat()
        if len(entry) > 2:
            members.append(entry)
    if not changes and not members:
        raise RegisterError(_l("Nothing would change."))
    return _household_request(
        user, household, RequestKind.change, {"household": changes, "members": members}, data
    )


def propose_exit(user: Any, household: Household, data: dict, row_version: Any) -> ChangeRequest:
    _open_for_proposal(user, household, row_version)
    reason = _enum(ExitReason, data.get("exit_reason"), "exit_reason")
    exit_date = _date(data.get("exit_date"), "exit_date")
    if exit_date > today():  # type: ignore[operator]
        raise RegisterError(_l("The exit date cannot be in the future."), "exit_date")
    payload = {"exit_reason": reason.value, "exit_date": exit_date.isoformat()}  # type: ignore[union-attr]
    return _household_request(user, household, RequestKind.exit, payload, data)


# -- deciding --------------------------------------------------------------------------


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
    village = _village_in_town(h["village_id"], request.town_id)
    household = Household(
        number=_next_number(),
        town_id=village.parent_id,
        village_id=village.id,
        category=Category(h["category"]),
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
                relationship_=Relationship(m["relationship"]),
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
                ChangeRequest.status == RequestStatus.pending,
                ChangeRequest.id != request.id,
                sa.cast(ChangeRequest.payload, sa.Text).contains(index),
            )
        ).first()
        return others is None


def _apply_change(request: ChangeRequest, household: Household) -> dict:
    applied: dict[str, Any] = {}
    for key, value in request.payload.get("household", {}).items():
        if key == "village_id":
            village = _village_in_town(value, household.town_id)
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
    if request.kind == RequestKind.enrol:
        household = _apply_enrol(request)
        request.household_id = household.id
        request.changes = {"enrolled": household.number}
    else:
        household = scope.get_scoped(Household, request.household_id)
        if household is None:
            raise NotFound(_l("The household was not found."))
        if request.kind == RequestKind.change:
            request.changes = _apply_change(request, household)
        else:
            household.status = HouseholdStatus.exited
            household.exit_reason = ExitReason(request.payload["exit_reason"])
            household.exit_date = dt.date.fromisoformat(request.payload["exit_date"])
            household.row_version += 1
            request.changes = {"status": {"before": "registered", "after": "exited"}}
    _decided(user, request, RequestStatus.confirmed)
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
    _decided(user, request, RequestStatus.returned)
    db.session.flush()


def _check_request_version(request: ChangeRequest, expected: Any) -> None:
    rules.check_version(
        request,
        expected,
        lambda: Conflict(_l("The request was decided or changed after you opened it.")),
    )


def _decided(user: Any, request: ChangeRequest, status: RequestStatus) -> None:
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
                ChangeRequest.batch == batch, ChangeRequest.status == RequestStatus.pending
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


# -- personal information: reveal and full export --------------------------------------


def reveal(user: Any, person: Person, reason: str) -> dict[str, str]:
    """查看完整信息: the full numbers for this one view, with a reason, audited."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise RegisterError(_l("Give the reason for seeing the full information."), "reason")
    trail.record(
        db.session,
        "pii_reveal",
        entity_type="Person",
        entity_id=person.id,
        summary=f"{person.name}: {reason}"[:400],
        data={
            "reason": reason[:400],
            "household_id": person.household_id,
            "id_masked": pii.mask_id(person.id_number),
            "id_index": person.id_index,
        },
    )
    return {"id_number": person.id_number, "phone": person.phone or ""}


def record_export(kind: str, rows: int, filters: dict, reason: str | None = None) -> None:
    """Every export is an event; an unmasked one needs its reason (checked here)."""
    data: dict[str, Any] = {"format": kind, "rows": rows, "filters": filters, "masked": True}
    if reason is not None:
        reason = reason.strip()
        if len(reason) < 2:
            raise RegisterError(_l("Give the reason for the full export."), "reason")
        data.update(masked=False, reason=reason[:400])
    trail.record(
        db.session,
        "export",
        entity_type="Household",
        summary=f"register export ({kind}{'' if reason is None else ', full'}): {rows} rows",
        data=data,
    )
