"""A town officer's proposals: enrolments (one by one, or a whole import at once),
changes and exits. Each is a `ChangeRequest` until the eligibility officer decides it
(`decisions`); resident ID and phone numbers in its payload are sealed (`pii.sealed`).
Nothing here commits: the caller's unit of work does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.db import new_id, utcnow
from portal.extensions import db
from portal.kernel import rules
from portal.kernel.grants import require
from portal.register import models, pii
from portal.register.models import (
    Area,
    AreaKind,
    Category,
    ChangeRequest,
    Household,
    Person,
    RequestKind,
    RequestStatus,
)
from portal.register.operations import (
    district_wide,
    officer_town_id,
    parse_date,
    parse_enum,
    village_in_town,
)
from portal.register.rules import (
    Conflict,
    Duplicate,
    NotFound,
    RegisterError,
    check_id_number,
    check_phone,
    today,
)
from portal.tenancy import scope

#: Rows per INSERT statement of an import (and per progress step while writing).
INSERT_CHUNK = 1000


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
    """Which of many blind indexes the district already holds (imports). One read of the
    district's index column (at most ~20,000 short strings, an index-only scan) and a set
    intersection: long `IN` lists were slower, and with PostgreSQL's generic plan for the
    prepared statement they fell back to scanning every district's persons."""
    if not indexes:
        return set()
    with district_wide():
        held = db.session.execute(sa.select(Person.id_index)).scalars()
        return set(indexes).intersection(held)


def checked_member(raw: dict, position: int, check_duplicates: bool = True) -> dict:
    """One proposed member, validated: the normalised numbers (plaintext, for sealing
    next), birth date and gender from the ID. An import's sheet rows are checked here too."""
    prefix = f"members.{position}."
    name = (raw.get("name") or "").strip()
    if not name:
        raise RegisterError(_l("The name is required."), prefix + "name")
    number, born, gender = check_id_number(raw.get("id_number", ""), prefix + "id_number")
    phone = check_phone(raw.get("phone"), prefix + "phone")
    if check_duplicates and any(id_taken(i) for i in pii.blind_indexes(number, "id_number")):
        raise Duplicate(
            _l(
                "This resident ID number is already in the district's register or a pending request."
            ),
            prefix + "id_number",
        )
    relationship = parse_enum(
        models.Relationship, raw.get("relationship") or "principal", prefix + "relationship"
    )
    return {
        "relationship": relationship.value,
        "name": name[:40],
        "id_number": number,
        "phone": phone or "",
        "birth_date": born.isoformat(),
        "gender": gender.value,
        "disability_grade": (raw.get("disability_grade") or "").strip()[:20],
    }


def sealed_member(member: dict) -> dict:
    """A checked member as a request's payload holds it: numbers sealed (ciphertext,
    blind index, masked form), never in plaintext."""
    phone = member.get("phone") or ""
    return {
        "relationship": member["relationship"],
        "name": member["name"],
        "id": pii.sealed(member["id_number"], "id_number"),
        "phone": pii.sealed(phone, "phone") if phone else None,
        "birth_date": member["birth_date"],
        "gender": member["gender"],
        "disability_grade": member.get("disability_grade", ""),
    }


def member_payload(raw: dict, position: int, check_duplicates: bool = True) -> dict:
    """One proposed member, validated, with its numbers sealed."""
    return sealed_member(checked_member(raw, position, check_duplicates))


def propose_enrol(
    user: Any, data: dict, batch: str = "", check_duplicates: bool = True
) -> ChangeRequest:
    """A town officer proposes a new household with its members."""
    require(user, "register.propose")
    town_id = _own_town(user)
    village = village_in_town(data.get("village_id"), town_id)
    members_raw = [m for m in data.get("members") or [] if any((m or {}).values())]
    members = [member_payload(m, i, check_duplicates) for i, m in enumerate(members_raw)]
    request = ChangeRequest(**_enrol_fields(user, town_id, village, data, members, batch))
    db.session.add(request)
    db.session.flush()
    return request


def propose_enrol_many(
    user: Any,
    items: list[dict],
    batch: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    """The enrolments of one import, set-based: the rows were checked already (members
    as `checked_member` gives them, duplicates included), so here they are sealed and
    written `INSERT_CHUNK` rows a statement, no ORM objects (`progress` gets the rows
    written after each). The rows' audit is the import's one event with its counts
    (`importing.import_valid`); all-or-nothing like any write, inside the caller's unit
    of work. Returns the count."""
    require(user, "register.propose")
    user = getattr(user, "_get_current_object", lambda: user)()  # not a proxy per row
    town_id = _own_town(user)
    villages = {
        str(a.id): a
        for a in db.session.execute(
            sa.select(Area).where(Area.kind == AreaKind.village, Area.parent_id == town_id)
        ).scalars()
    }
    tenant_id, now = scope.current().tenant_id, utcnow()
    conn = db.session.connection()
    for start in range(0, len(items), INSERT_CHUNK):
        rows = []
        for data in items[start : start + INSERT_CHUNK]:
            village = villages.get(str(data.get("village_id") or ""))
            if village is None:
                raise RegisterError(_l("The village is not in your town."), "village_id")
            members = [sealed_member(m) for m in data.get("members") or []]
            fields = _enrol_fields(user, town_id, village, data, members, batch)
            rows.append({**fields, "tenant_id": tenant_id, "id": new_id(), "proposed_at": now})
        conn.execute(sa.insert(ChangeRequest.__table__), rows)
        if progress is not None:
            progress(start + len(rows))
    return len(items)


def _own_town(user: Any) -> uuid.UUID:
    town_id = officer_town_id(user)
    if town_id is None:
        raise RegisterError(_l("Your account is not bound to a town."))
    return town_id


def _enrol_fields(
    user: Any, town_id: uuid.UUID, village: Area, data: dict, members: list[dict], batch: str
) -> dict[str, Any]:
    """The columns of one enrolment request (its members sealed already)."""
    category = parse_enum(Category, data.get("category"), "category")
    registered_on = parse_date(data.get("registered_on") or today(), "registered_on")
    if not members:
        raise RegisterError(_l("Add at least one member."), "members")
    indexes = [m["id"]["index"] for m in members]
    if len(set(indexes)) != len(indexes):
        raise Duplicate(_l("The same resident ID number is given twice."), "members")
    return {
        "kind": RequestKind.enrol,
        "town_id": town_id,
        "summary": f"{members[0]['name']} · {village.name}"[:200],
        "payload": {
            "household": {
                "village_id": str(village.id),
                "category": category.value,
                "level": (data.get("level") or "").strip()[:20],
                "address": (data.get("address") or "").strip()[:200],
                "registered_on": registered_on.isoformat(),  # type: ignore[union-attr]
            },
            "members": members,
        },
        "evidence_note": (data.get("evidence_note") or "").strip()[:2000],
        "batch": batch,
        "proposed_by_id": user.id,
        "proposed_by_name": user.display_name,
    }


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
    if household.status != models.HouseholdStatus.registered:
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
        changes["village_id"] = str(village_in_town(data["village_id"], household.town_id).id)
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
        death = parse_date(m.get("death_date"), f"members.{i}.death_date", required=False)
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
    reason = parse_enum(models.ExitReason, data.get("exit_reason"), "exit_reason")
    exit_date = parse_date(data.get("exit_date"), "exit_date")
    if exit_date > today():  # type: ignore[operator]
        raise RegisterError(_l("The exit date cannot be in the future."), "exit_date")
    payload = {"exit_reason": reason.value, "exit_date": exit_date.isoformat()}  # type: ignore[union-attr]
    return _household_request(user, household, RequestKind.exit, payload, data)
