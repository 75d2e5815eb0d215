"""The duty cycle's rules: the status matrix, the domain's errors and the `can_*` predicates.

The status matrix below is the one place that says which action a duty's status allows;
`SIGNED` and `OPEN` are read from it, and the views, the API, the operations and the
queries all ask it (never a list of statuses of their own). Errors derive from the
kernel's `RuleError` family, so every entry point answers them the same way.
"""

from __future__ import annotations

import decimal
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l

from portal.duties.models import Duty, DutyStatus
from portal.kernel import rules
from portal.kernel.grants import SYSTEM, can
from portal.kernel.labels import labeller
from portal.kernel.rules import ConflictError, NotAllowed, NotFound, RuleError

if TYPE_CHECKING:
    from portal.duties.queries import ShownDuty

__all__ = [
    "ACTIONS",
    "OPEN",
    "SIGNED",
    "ConflictError",
    "DutyError",
    "NotAllowed",
    "NotFound",
    "RuleError",
    "StorageError",
    "allows",
    "can_log",
    "can_review",
    "can_sign_off",
    "check_version",
    "flush",
]

MAX_NARRATIVE = 5000
MAX_REASON = 2000
MAX_AMOUNT = decimal.Decimal("999999999999.99")

# --- the status matrix ---------------------------------------------------------------------
# status → the actions it allows. Logging on a signed-off duty is allowed: it withdraws the
# sign-off (and any acceptance), and the department signs off again.
ACTIONS: dict[DutyStatus, frozenset[str]] = {
    DutyStatus.not_started: frozenset({"log", "sign_off"}),
    DutyStatus.in_progress: frozenset({"log", "sign_off"}),
    DutyStatus.returned: frozenset({"log", "sign_off"}),
    DutyStatus.submitted: frozenset({"log", "review"}),
    DutyStatus.accepted: frozenset({"log"}),
}
# Signed off for the period (submitted or accepted): not overdue, kept by regeneration.
SIGNED: tuple[DutyStatus, ...] = tuple(s for s in DutyStatus if "sign_off" not in ACTIONS[s])
# Open: still to be signed off.
OPEN: tuple[DutyStatus, ...] = tuple(s for s in DutyStatus if "sign_off" in ACTIONS[s])


STATUS_LABELS = {
    DutyStatus.not_started: _l("Not started"),
    DutyStatus.in_progress: _l("In progress"),
    DutyStatus.submitted: _l("Submitted"),
    DutyStatus.accepted: _l("Accepted"),
    DutyStatus.returned: _l("Returned"),
}


status_label = labeller(STATUS_LABELS)


def allows(duty: Duty | ShownDuty, action: str) -> bool:
    """Does the duty's status allow `action` ("log", "sign_off", "review")?"""
    return action in ACTIONS[DutyStatus(duty.status)]


# --- errors ----------------------------------------------------------------------------------


class DutyError(RuleError):
    """A rule of the duty cycle was broken; `field` names the input at fault."""


class StorageError(RuleError):
    """The upload directory could not take the file (read-only, full, missing)."""

    code = "storage_unavailable"
    status = 503


conflict = rules.conflict_with(
    _l(
        "Someone else changed this duty after you opened it. Your input is kept below: "
        "check the current state and save again."
    )
)


def check_version(row: Any, expected: int | str | None) -> None:
    """The kernel's required version check, answered with the duty's conflict message."""
    rules.check_version(row, expected, conflict)


def flush() -> None:
    rules.flush(conflict)


# --- who may do what to this duty ----------------------------------------------------------


def can_log(user: Any, duty: Duty | ShownDuty) -> bool:
    return can(user, "duty.log") and allows(duty, "log")


def can_sign_off(user: Any, duty: Duty | ShownDuty) -> bool:
    return can(user, "duty.sign_off") and allows(duty, "sign_off")


def is_submitter(user: Any, duty: Duty | ShownDuty) -> bool:
    """The one who signed the duty off (never its reviewer); SYSTEM never is."""
    if user is SYSTEM or duty.submitted_by_id is None:
        return False
    return getattr(user, "id", None) == duty.submitted_by_id


def can_review(user: Any, duty: Duty | ShownDuty) -> bool:
    return can(user, "duty.review") and allows(duty, "review") and not is_submitter(user, duty)
