"""Village-contact accounts from the care pages: a town officer creates, deactivates
(or reactivates) and resets the password of the accounts serving their own town's
villages, and links an account to one of the town's contact persons.

One implementation: every account change is the register's (`portal.register.accounts`:
the town check, "another town's contact is not found", the accounts service that audits
it); care only adds what is its own — the link from a contact person to the account,
so the account sees exactly the households assigned to that person. Nothing commits.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.auth.operations import NewAccount
from portal.care.models import Assignment, Contact
from portal.care.rules import CareError
from portal.extensions import db
from portal.kernel.grants import require
from portal.register import accounts as register_accounts
from portal.register.models import Area, HouseholdContact, contact_households
from portal.tenancy import scope
from portal.tenancy.models import Tenant


@dataclasses.dataclass
class AccountRow:
    """A village-contact account of the officer's town and the contact person it is."""

    user: Any
    village: Area | None
    households: int
    person: Contact | None


def accounts_page(actor: Any) -> tuple[list[AccountRow], list[Area], list[Contact]]:
    """The town's village-contact accounts (with the contact person each is), the town's
    villages, and the town's active contact persons that have no account yet."""
    require(actor, "care.contacts")
    rows = register_accounts.contacts(actor)
    ids = [r.user.id for r in rows]
    persons = {
        c.user_id: c
        for c in db.session.execute(sa.select(Contact).where(Contact.user_id.in_(ids))).scalars()
    }
    unlinked = list(
        db.session.execute(
            sa.select(Contact)
            .where(Contact.active.is_(True), Contact.user_id.is_(None))
            .order_by(Contact.name)
        ).scalars()
    )
    return (
        [AccountRow(r.user, r.village, r.households, persons.get(r.user.id)) for r in rows],
        register_accounts.town_villages(actor),
        unlinked,
    )


def _unlinked_person(contact_id: Any) -> Contact | None:
    """The contact person (of the officer's town, active, without an account) to link."""
    if not contact_id:
        return None
    try:
        ident = uuid.UUID(str(contact_id))
    except ValueError:
        ident = None
    person = scope.get_scoped(Contact, ident) if ident else None
    if person is None or not person.active:
        raise CareError(_l("Choose a contact person of your town."), "contact_id")
    if person.user_id is not None:
        raise CareError(_l("This contact person already has an account."), "contact_id")
    return person


def create_account(
    actor: Any,
    tenant: Tenant,
    *,
    username: str,
    display_name: str = "",
    village_id: Any,
    contact_id: Any = None,
) -> NewAccount:
    """A village-contact account for a village of the officer's town (the register's
    `create_contact`: temporary password shown once, audited), linked to a contact
    person when one is chosen: the account then sees that person's households."""
    require(actor, "care.contacts")
    person = _unlinked_person(contact_id)
    made = register_accounts.create_contact(
        actor,
        tenant,
        username,
        (display_name or "").strip() or (person.name if person else ""),
        village_id,
    )
    if person is not None:
        link_person(person, made.user.id)
    return made


def link_person(person: Contact, user_id: uuid.UUID) -> int:
    """The contact person is this account: it sees the households the person holds now
    (one register link per open assignment; each is an audited row). Returns how many."""
    person.user_id = user_id
    held = db.session.execute(
        sa.select(Assignment.household_id).where(
            Assignment.contact_id == person.id, Assignment.ended_on.is_(None)
        )
    ).scalars()
    have = set(db.session.execute(contact_households(user_id)).scalars())
    added = 0
    for household_id in held:
        if household_id not in have:
            db.session.add(HouseholdContact(user_id=user_id, household_id=household_id))
            have.add(household_id)
            added += 1
    db.session.flush()
    return added


def set_active(actor: Any, user_id: Any, active: bool) -> bool:
    """Deactivate (its sessions end at once) or reactivate an account of the town's
    contacts; the contact person stays (they may keep visiting without the app)."""
    require(actor, "care.contacts")
    return register_accounts.set_contact_active(actor, user_id, active)


def reset_password(actor: Any, user_id: Any) -> tuple[Any, str]:
    """A new temporary password for an account of the town's contacts (shown once)."""
    require(actor, "care.contacts")
    return register_accounts.reset_contact_password(actor, user_id)


def account(actor: Any, user_id: Any) -> Any:
    """An account of the town's contacts (another town's, or none: not found)."""
    require(actor, "care.contacts")
    user, _binding = register_accounts.contact_for(actor, user_id)
    return user
