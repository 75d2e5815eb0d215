"""Roles and the one grant table that says what each role may do (DESIGN.md §3).

Services ask `require(user, grant)`; views use `portal.kernel.grants.requires`; both
read `GRANTS`. Anything not granted is denied. Record-level scope (which tenant, which
department) is not decided here but by the ORM scoping hook (`portal.tenancy.scope`).
Work done by the system itself (demo loading, duty generation after a policy change,
the CLI) passes `SYSTEM` explicitly; "no user" is never a silent pass.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.kernel.rules import NotAllowed


class Role(enum.StrEnum):
    platform_operator = "platform_operator"
    district_lead = "district_lead"
    dept_officer = "dept_officer"
    auditor = "auditor"
    # the families register (portal/register): bound to one town / to assigned households
    town_officer = "town_officer"
    village_contact = "village_contact"


ROLE_LABELS = {
    Role.platform_operator: _l("Platform operator"),
    Role.district_lead: _l("District lead"),
    Role.dept_officer: _l("Department officer"),
    Role.auditor: _l("Auditor"),
    Role.town_officer: _l("Town officer"),
    Role.village_contact: _l("Village contact"),
}

OPERATOR, LEAD, OFFICER, AUDITOR = (
    Role.platform_operator,
    Role.district_lead,
    Role.dept_officer,
    Role.auditor,
)
TOWN, VILLAGE = Role.town_officer, Role.village_contact

GRANTS: dict[str, frozenset[Role]] = {
    # platform
    "platform.console": frozenset({OPERATOR}),
    "tenant.manage": frozenset({OPERATOR}),
    "platform.audit.read": frozenset({OPERATOR}),
    # district
    "district.home": frozenset({LEAD, OFFICER, AUDITOR, TOWN, VILLAGE}),
    "district.read_all": frozenset({LEAD, AUDITOR}),
    "district.configure": frozenset({LEAD}),  # policy, departments, users
    "policy.read": frozenset({LEAD, OFFICER, AUDITOR}),
    "duty.read": frozenset({LEAD, OFFICER, AUDITOR}),
    "duty.log": frozenset({OFFICER}),
    "duty.sign_off": frozenset({OFFICER}),
    "duty.review": frozenset({LEAD}),
    "duty.export": frozenset({LEAD, AUDITOR}),
    "meeting.read": frozenset({LEAD, OFFICER, AUDITOR}),
    "meeting.manage": frozenset({LEAD}),
    "meeting.report": frozenset({OFFICER}),
    "action_item.update": frozenset({OFFICER}),
    "audit.read": frozenset({LEAD, AUDITOR}),
    "audit.read_department": frozenset({OFFICER}),
    # the families register (rows: the scoping hook; officers: the eligibility
    # department only — portal/register/rules.py)
    "register.read": frozenset({LEAD, OFFICER, AUDITOR, TOWN, VILLAGE}),
    "register.areas": frozenset({LEAD}),
    "register.propose": frozenset({TOWN}),
    "register.confirm": frozenset({OFFICER}),
    "register.reveal": frozenset({OFFICER, TOWN, VILLAGE}),
    "register.export": frozenset({LEAD, OFFICER, AUDITOR, TOWN}),
    "register.export_full": frozenset({OFFICER}),  # unmasked, with a reason, audited
    "register.import": frozenset({TOWN}),
    "register.officers": frozenset({LEAD}),  # bind a town officer to its town
    "register.contacts": frozenset({LEAD, TOWN}),  # village-contact accounts (own town)
    # benefits: entitlements and payment cycles (officers: the eligibility department
    # computes and reviews, the finance department approves and pays —
    # portal/benefits/rules.py; town officers their town's lines and claims)
    "benefits.read": frozenset({LEAD, OFFICER, AUDITOR, TOWN}),
    "benefits.compute": frozenset({OFFICER}),
    "benefits.review": frozenset({OFFICER}),
    "benefits.approve": frozenset({OFFICER}),
    "benefits.pay": frozenset({OFFICER}),
    "benefits.claim": frozenset({OFFICER, TOWN}),
    "benefits.export": frozenset({LEAD, OFFICER, AUDITOR}),
    # care (portal/care): contacts, doctors, check-ups, visits; rows follow the household
    "care.read": frozenset({LEAD, OFFICER, AUDITOR, TOWN, VILLAGE}),
    "care.contacts": frozenset({TOWN}),  # add, assign, reassign, deactivate contact persons
    "care.visit": frozenset({TOWN, VILLAGE}),
    "care.health": frozenset({OFFICER, TOWN}),  # doctor contracts and check-ups
    "care.dashboard": frozenset({LEAD, OFFICER, AUDITOR, TOWN}),
    "care.export": frozenset({LEAD, OFFICER, AUDITOR, TOWN}),
    # messages, notices and online users (the workspace)
    "message.read": frozenset({LEAD, OFFICER, AUDITOR}),
    "notice.read": frozenset({LEAD, OFFICER, AUDITOR}),
    "notice.post": frozenset({LEAD}),
    "platform.notice": frozenset({OPERATOR}),
    "session.manage": frozenset({LEAD}),
    "platform.sessions": frozenset({OPERATOR}),
    # everyone signed in
    "account.self": frozenset({OPERATOR, LEAD, OFFICER, AUDITOR, TOWN, VILLAGE}),
}


class _System:
    """The explicit actor for work the system does on its own behalf (CLI, demo, signals)."""

    is_authenticated = True
    id = None
    role = None
    username = "system"

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = _System()


def can(user: Any, grant: str) -> bool:
    """Does the user's role hold `grant`? (SYSTEM holds every grant.)"""
    if grant not in GRANTS:
        raise KeyError(f"unknown grant {grant!r}")
    if user is SYSTEM:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    return user.role in GRANTS[grant]


def require(user: Any, grant: str) -> None:
    """Raise `NotAllowed` unless `user` holds `grant`; `None` is refused, not waved through."""
    if not can(user, grant):
        raise NotAllowed(_l("You do not have permission to do this."))


def requires(grant: str, *, status: int = 403) -> Callable:
    """View decorator: sign-in first, then deny with `status` unless the role holds `grant`."""
    if grant not in GRANTS:
        raise KeyError(f"unknown permission {grant!r}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                from portal.extensions import login_manager

                return login_manager.unauthorized()
            if not can(current_user, grant):
                abort(status)
            return view(*args, **kwargs)

        wrapper.required_permission = grant  # type: ignore[attr-defined]
        return wrapper

    return decorator
