"""What the account rules need to know about each role, written once.

The grant table (`portal.kernel.grants`) says what a role may do and what it is called
(`ROLE_LABELS`). This module says how roles sit in the structure — held in a district or
on the platform, tied to a department or not, given by whom — so the console, the
district's Users page, the back office and the CLI apply the same account rules.
"""

from __future__ import annotations

from typing import Any

from portal.kernel.grants import AUDITOR, LEAD, OFFICER, OPERATOR, ROLE_LABELS, Role

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
