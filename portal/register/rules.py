"""The register's rules and permission predicates (`can_*` beside the rules they guard).

Grants say which roles may act at all (portal/kernel/grants.py); rows are narrowed by
the scoping hook (models' `scope_criteria`). One more condition lives here: among
department officers only the eligibility department (kind `health`, 卫健) works with the
register; other departments' officers see none of it (minimum necessary) and get 404.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from stdnum.cn import ric

from portal.kernel.clock import today
from portal.kernel.grants import can
from portal.kernel.rules import ConflictError, NotFound, RuleError
from portal.register.models import ELIGIBILITY_KIND, Gender, eligibility_department
from portal.tenancy.services import department_kind

__all__ = ["Conflict", "Duplicate", "NotFound", "RegisterError", "today"]


class RegisterError(RuleError):
    """A register rule was broken."""


Conflict = ConflictError


class Duplicate(RegisterError):
    code = "duplicate"
    status = 409


def is_eligibility_officer(user: Any) -> bool:
    if getattr(user, "department_id", None) is None:  # only department officers have one
        return False
    if department_kind(user) != ELIGIBILITY_KIND:
        return False  # not a health department (the look-up is shared with other domains)
    from flask import g, has_request_context

    from portal.extensions import db

    cached = getattr(g, "register_eligibility_dept", False) if has_request_context() else False
    if cached is False:
        cached = db.session.execute(sa.select(eligibility_department())).scalar()
        if has_request_context():
            g.register_eligibility_dept = cached  # one look-up per request (nav, views)
    return cached == user.department_id


def _with_department_rule(user: Any, action: str) -> bool:
    if not can(user, action):
        return False
    # Among department officers only the eligibility department works with the register.
    return getattr(user, "department_id", None) is None or is_eligibility_officer(user)


def _granted(action: str, department_rule: bool = False) -> Callable[[Any], bool]:
    """`can_x(user)` for one grant of the register; with `department_rule`, among
    department officers only the eligibility department's (the rule above)."""

    def check(user: Any) -> bool:
        if department_rule:
            return _with_department_rule(user, action)
        return can(user, action)

    check.__doc__ = f"May the user use {action!r}?"
    return check


can_read = _granted("register.read", department_rule=True)
can_confirm = _granted("register.confirm", department_rule=True)
can_reveal = _granted("register.reveal", department_rule=True)
can_export = _granted("register.export", department_rule=True)
can_export_full = _granted("register.export_full", department_rule=True)
can_propose = _granted("register.propose")
can_import = _granted("register.import")
can_manage_areas = _granted("register.areas")
can_manage_officers = _granted("register.officers")
can_manage_contacts = _granted("register.contacts")


def can_decide(user: Any, request: Any) -> bool:
    """The confirming officer decides a pending request — never one they proposed."""
    from portal.register.models import RequestStatus

    return (
        can_confirm(user)
        and request.status == RequestStatus.pending
        and request.proposed_by_id != user.id
    )


def check_id_number(value: str, field: str = "id_number") -> tuple[str, dt.date, Gender]:
    """A resident ID number (18 digits, checksum, date) → (normalised, birth date, gender)."""
    number = ric.compact(value or "")
    if not number:
        raise RegisterError(_l("The resident ID number is required."), field)
    if len(number) != 18 or not number[:17].isdigit():
        raise RegisterError(_l("The resident ID number must have 18 characters."), field)
    try:
        born = ric.get_birth_date(number)
    except Exception:  # noqa: BLE001 - stdnum's InvalidComponent
        raise RegisterError(
            _l("The birth date in the resident ID number is not valid."), field
        ) from None
    if ric.calc_check_digit(number) != number[-1]:
        raise RegisterError(_l("The resident ID number's check digit is wrong."), field)
    gender = Gender.male if int(number[16]) % 2 else Gender.female
    return number, born, gender


def check_phone(value: str | None, field: str = "phone") -> str | None:
    v = "".join(ch for ch in (value or "") if ch.isdigit() or ch == "-").replace("-", "")
    if not v:
        return None
    if not (7 <= len(v) <= 12):
        raise RegisterError(_l("The phone number is not valid."), field)
    return v
