"""The one place that says what each role may do (DESIGN.md §3).

Views, the API and the CLI ask `can(user, action)` or use `@requires(action)`;
anything not granted is denied. Record-level scope (which tenant, which
department) is not decided here but by the ORM scoping hook.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user

from portal.auth.models import Role

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
    "register.import": frozenset({TOWN}),
    # everyone signed in
    "account.self": frozenset({OPERATOR, LEAD, OFFICER, AUDITOR, TOWN, VILLAGE}),
}


def can(user: Any, action: str) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return user.role in GRANTS.get(action, frozenset())


def requires(action: str, *, status: int = 403) -> Callable:
    """Deny with `status` unless the signed-in user's role holds `action`."""
    if action not in GRANTS:
        raise KeyError(f"unknown permission {action!r}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                from portal.extensions import login_manager

                return login_manager.unauthorized()
            if not can(current_user, action):
                abort(status)
            return view(*args, **kwargs)

        wrapper.required_permission = action  # type: ignore[attr-defined]
        return wrapper

    return decorator
