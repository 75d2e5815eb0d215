"""What each role is, in people's words and in structure: written once.

The grant table (`portal.kernel.grants`) says what a role may do. This module says
what the account rules need to know about a role (does it belong to a district, does
it need a department) and how it is called on screen (`ROLE_LABELS`), so the platform
console, the district's Users page, the back office and the page header agree.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from portal.kernel.grants import AUDITOR, LEAD, OFFICER, OPERATOR, Role

ROLE_LABELS: dict[Role, Any] = {
    OPERATOR: _l("Platform operator"),
    LEAD: _l("District lead"),
    OFFICER: _l("Department officer"),
    AUDITOR: _l("Auditor"),
}

# Roles held inside a district, in the order they are offered.
DISTRICT_ROLES: tuple[Role, ...] = (LEAD, OFFICER, AUDITOR)
# Roles whose account is tied to one department of its district.
DEPARTMENT_ROLES: frozenset[Role] = frozenset({OFFICER})
# Roles held outside every district.
PLATFORM_ROLES: frozenset[Role] = frozenset({OPERATOR})


def role_label(role: Any) -> str:
    """The role's name in the reader's language (unknown values are shown as they are)."""
    try:
        return str(ROLE_LABELS[Role(role)])
    except ValueError:
        return str(role)


def needs_department(role: Role) -> bool:
    return role in DEPARTMENT_ROLES


def is_platform_role(role: Role) -> bool:
    return role in PLATFORM_ROLES


# Roles the platform operator gives from the console (a district's first accounts).
OPERATOR_ASSIGNS: frozenset[Role] = frozenset({LEAD})
