"""Register accounts: which town a town officer works for, and the village-contact
accounts of a town (create, assign to a village and its households, reassign,
deactivate).

Who may do what: the grant table (`register.officers` for the lead, `register.contacts`
for the lead and town officers); where: a town officer acts only on the villages of
their own town and on the contacts serving them — anything else is "not found", exactly
like a missing record. Accounts themselves are made and switched off by the accounts
service (`portal.auth.operations`, which audits them) once these checks have passed;
the bindings are rows the audit trail captures.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.auth import operations as accounts
from portal.auth.models import User
from portal.extensions import db
from portal.kernel.grants import SYSTEM, Role, require
from portal.register.models import (
    Area,
    AreaKind,
    ContactVillage,
    Household,
    HouseholdContact,
    HouseholdStatus,
    OfficerTown,
    contact_households,
)
from portal.register.rules import NotFound, RegisterError
from portal.tenancy import scope
from portal.tenancy.models import Tenant


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def actor_town_id(actor: Any) -> uuid.UUID | None:
    """The town a town officer works for (None for the lead: the whole district)."""
    if getattr(actor, "role", None) != Role.town_officer:
        return None
    return db.session.execute(
        sa.select(OfficerTown.town_id).where(OfficerTown.user_id == actor.id)
    ).scalar()


def _not_found() -> NotFound:
    return NotFound(_l("Not found."))


def _account(user_id: Any, role: Role) -> User:
    """An account of this district with this role, or not found."""
    ident = _uuid(user_id)
    tenant_id = scope.current().tenant_id
    user = (
        db.session.execute(
            sa.select(User).where(User.id == ident, User.tenant_id == tenant_id, User.role == role)
        ).scalar_one_or_none()
        if ident and tenant_id
        else None
    )
    if user is None:
        raise _not_found()
    return user


def _area(area_id: Any, kind: AreaKind, field: str) -> Area:
    area = scope.get_scoped(Area, _uuid(area_id)) if _uuid(area_id) else None
    if area is None or area.kind != kind:
        message = _l("Choose a town.") if kind == AreaKind.town else _l("Choose a village.")
        raise RegisterError(message, field)
    return area


def village_for(actor: Any, village_id: Any, field: str = "village_id") -> Area:
    """A village the actor may staff: any of the district's for the lead, only those of
    their own town for a town officer (another town's village: not found)."""
    village = _area(village_id, AreaKind.village, field)
    if actor.role == Role.town_officer and village.parent_id != actor_town_id(actor):
        raise _not_found()
    return village


# -- town officers ---------------------------------------------------------------------


def bind_officer_town(actor: Any, officer_id: Any, town_id: Any) -> bool:
    """The lead binds a town-officer account to its town (or moves it). True if changed;
    the officer sees the new town's households from their next request."""
    require(actor, "register.officers")
    officer = _account(officer_id, Role.town_officer)
    town = _area(town_id, AreaKind.town, "town_id")
    binding = db.session.execute(
        sa.select(OfficerTown).where(OfficerTown.user_id == officer.id)
    ).scalar_one_or_none()
    if binding is None:
        db.session.add(OfficerTown(user_id=officer.id, town_id=town.id))
    elif binding.town_id == town.id:
        return False
    else:
        binding.town_id = town.id
    db.session.flush()
    return True


# -- village contacts ------------------------------------------------------------------


@dataclasses.dataclass
class Contact:
    user: User
    village: Area | None
    households: int


def contact_for(actor: Any, user_id: Any) -> tuple[User, ContactVillage | None]:
    """A village contact the actor may manage (the lead: any of the district's; a town
    officer: those serving a village of their town), or not found."""
    require(actor, "register.contacts")
    user = _account(user_id, Role.village_contact)
    binding = db.session.execute(
        sa.select(ContactVillage).where(ContactVillage.user_id == user.id)
    ).scalar_one_or_none()
    if actor.role == Role.town_officer:
        village = scope.get_scoped(Area, binding.village_id) if binding else None
        if village is None or village.parent_id != actor_town_id(actor):
            raise _not_found()
    return user, binding


def contacts(actor: Any) -> list[Contact]:
    """The contacts the actor manages, with their village and number of households."""
    require(actor, "register.contacts")
    tenant_id = scope.current().tenant_id
    town_id = actor_town_id(actor)
    assigned = (
        sa.select(sa.func.count())
        .select_from(HouseholdContact)
        .where(HouseholdContact.user_id == User.id)
        .scalar_subquery()
    )
    stmt = (
        sa.select(User, Area, assigned)
        .outerjoin(ContactVillage, ContactVillage.user_id == User.id)
        .outerjoin(
            Area,
            sa.and_(
                Area.tenant_id == ContactVillage.tenant_id, Area.id == ContactVillage.village_id
            ),
        )
        .where(User.tenant_id == tenant_id, User.role == Role.village_contact)
        .order_by(User.username)
    )
    if actor.role == Role.town_officer:
        stmt = stmt.where(Area.parent_id == town_id) if town_id else stmt.where(sa.false())
    return [Contact(u, v, n) for u, v, n in db.session.execute(stmt).all()]


def town_officers() -> list[tuple[User, uuid.UUID | None]]:
    """The district's town-officer accounts and the town each is bound to."""
    tenant_id = scope.current().tenant_id
    return list(
        db.session.execute(
            sa.select(User, OfficerTown.town_id)
            .outerjoin(OfficerTown, OfficerTown.user_id == User.id)
            .where(User.tenant_id == tenant_id, User.role == Role.town_officer)
            .order_by(User.username)
        ).all()
    )


def create_contact(
    actor: Any, tenant: Tenant, username: str, display_name: str, village_id: Any
) -> accounts.NewAccount:
    """A new village-contact account serving one village; its temporary password is
    returned (shown once). The accounts service checks the username and audits it."""
    require(actor, "register.contacts")
    village = village_for(actor, village_id)
    made = accounts.create_user(
        SYSTEM,  # the register's own checks above stand in for the accounts manager's
        username=username,
        role=Role.village_contact,
        tenant=tenant,
        display_name=display_name,
    )
    db.session.add(ContactVillage(user_id=made.user.id, village_id=village.id))
    db.session.flush()
    return made


def reassign_contact(actor: Any, user_id: Any, village_id: Any) -> bool:
    """Move a contact to another village; assignments to households outside it end (the
    contact no longer sees them). True if changed."""
    user, binding = contact_for(actor, user_id)
    village = village_for(actor, village_id)
    if binding is not None and binding.village_id == village.id:
        return False
    if binding is None:
        db.session.add(ContactVillage(user_id=user.id, village_id=village.id))
    else:
        binding.village_id = village.id
    _drop_assignments(user.id, keep_village=village.id)
    db.session.flush()
    return True


def _drop_assignments(user_id: uuid.UUID, keep_village: uuid.UUID | None) -> int:
    """Delete the contact's household assignments outside `keep_village` (row by row,
    so each deletion is in the audit trail)."""
    stmt = sa.select(HouseholdContact).where(HouseholdContact.user_id == user_id)
    if keep_village is not None:
        stmt = stmt.where(
            HouseholdContact.household_id.not_in(
                sa.select(Household.id).where(Household.village_id == keep_village)
            )
        )
    rows = db.session.execute(stmt).scalars().all()
    for row in rows:
        db.session.delete(row)
    return len(rows)


def set_contact_active(actor: Any, user_id: Any, active: bool) -> bool:
    """Deactivate (sessions end at once) or reactivate a contact's account."""
    user, _binding = contact_for(actor, user_id)
    return accounts.set_active(SYSTEM, user, active, tenant=user.tenant)


def reset_contact_password(actor: Any, user_id: Any) -> tuple[User, str]:
    """A new temporary password for a contact the actor manages (returned, shown once);
    the holder must change it at the next sign-in and every open session ends. The
    accounts service audits it (`password_reset`)."""
    user, _binding = contact_for(actor, user_id)
    return user, accounts.reset_password(SYSTEM, user, tenant=user.tenant)


def town_villages(actor: Any) -> list[Area]:
    """The villages a contact of the actor may serve: the district's for the lead, their
    own town's for a town officer (none while they are bound to no town)."""
    q = sa.select(Area).where(Area.kind == AreaKind.village)
    if actor.role == Role.town_officer:
        q = q.where(Area.parent_id == actor_town_id(actor))
    return list(db.session.execute(q.order_by(Area.sort_order, Area.name)).scalars())


def village_households(village_id: uuid.UUID) -> list[Household]:
    return list(
        db.session.execute(
            sa.select(Household)
            .where(
                Household.village_id == village_id,
                Household.status == HouseholdStatus.registered,
            )
            .order_by(Household.number)
        ).scalars()
    )


def assigned_household_ids(user_id: uuid.UUID) -> set[uuid.UUID]:
    return set(db.session.execute(contact_households(user_id)).scalars())


def assign_households(actor: Any, user_id: Any, household_ids: list[str]) -> tuple[int, int]:
    """The contact's households become exactly these registered households of its
    village (others are refused). Returns (added, removed)."""
    user, binding = contact_for(actor, user_id)
    if binding is None:
        raise RegisterError(_l("Assign the contact to a village first."), "village_id")
    allowed = {h.id for h in village_households(binding.village_id)}
    wanted = {_uuid(h) for h in household_ids}
    if None in wanted or not wanted <= allowed:
        raise RegisterError(_l("Choose households of the contact's village."), "households")
    current = db.session.execute(
        sa.select(HouseholdContact).where(HouseholdContact.user_id == user.id)
    ).scalars()
    removed = 0
    have: set[uuid.UUID] = set()
    for row in current:
        if row.household_id in wanted:
            have.add(row.household_id)
        else:
            db.session.delete(row)
            removed += 1
    for household_id in sorted(wanted - have):
        db.session.add(HouseholdContact(user_id=user.id, household_id=household_id))
    db.session.flush()
    return len(wanted - have), removed
