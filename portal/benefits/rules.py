"""The benefit ledger's rules and permission predicates (`can_*` beside the rules).

Grants say which roles may act at all (portal/kernel/grants.py). Among department
officers, the eligibility department (卫健, kind `health`) computes and reviews a cycle and
enters claims; the finance department (财政, kind `finance`) approves and pays. Four
eyes: the officer who reviewed a cycle never approves it. A cycle moves one way only:
draft → computed → reviewed → approved → exported → closed, and a closed one never
changes (also enforced at flush time, `models.refuse_closed_changes`).

Claim caps are pure functions (`cap_claim`) so that the 91st hospital day is refused the
same way in the UI, the CLI, the demo and the property tests.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.benefits.models import ELIGIBILITY_KIND, FINANCE_KIND, CycleStatus
from portal.kernel.grants import can
from portal.kernel.rules import ConflictError, NotFound, RuleError
from portal.tenancy.services import department_kind

__all__ = ["BenefitsError", "ConflictError", "NotFound"]


class BenefitsError(RuleError):
    """A benefits rule was broken."""


class FourEyes(BenefitsError):
    code = "four_eyes"
    status = 409


#: The one order of a cycle's states, and the action that moves it on.
NEXT: dict[CycleStatus, CycleStatus] = {
    CycleStatus.draft: CycleStatus.computed,
    CycleStatus.computed: CycleStatus.reviewed,
    CycleStatus.reviewed: CycleStatus.approved,
    CycleStatus.approved: CycleStatus.exported,
    CycleStatus.exported: CycleStatus.closed,
}


def _officer_of(user: Any, grant: str, kinds: tuple[str, ...]) -> bool:
    return can(user, grant) and (
        getattr(user, "department_id", None) is None or department_kind(user) in kinds
    )


def can_read(user: Any) -> bool:
    """Lead, auditor, town officers (their town's lines), the 卫健 and 财政 officers."""
    return _officer_of(user, "benefits.read", (ELIGIBILITY_KIND, FINANCE_KIND))


def can_compute(user: Any) -> bool:
    return _officer_of(user, "benefits.compute", (ELIGIBILITY_KIND,))


def can_review(user: Any) -> bool:
    return _officer_of(user, "benefits.review", (ELIGIBILITY_KIND,))


def can_approve(user: Any) -> bool:
    return _officer_of(user, "benefits.approve", (FINANCE_KIND,))


def can_pay(user: Any) -> bool:
    return _officer_of(user, "benefits.pay", (FINANCE_KIND,))


def can_claim(user: Any) -> bool:
    return _officer_of(user, "benefits.claim", (ELIGIBILITY_KIND,))


def can_export(user: Any) -> bool:
    return _officer_of(user, "benefits.export", (ELIGIBILITY_KIND, FINANCE_KIND))


def can_set_bank_layout(user: Any) -> bool:
    """The district's bank file layout is configuration: the district lead's."""
    return can(user, "district.configure")


def check_step(cycle: Any, to: CycleStatus) -> None:
    """The cycle must be in the state right before `to` (a closed cycle never moves)."""
    if cycle.status == CycleStatus.closed:
        raise BenefitsError(_l("A closed payment cycle never changes."))
    if to == CycleStatus.computed and cycle.status in (CycleStatus.draft, CycleStatus.computed):
        return  # computing again before review replaces the lines
    if NEXT.get(cycle.status) != to:
        raise ConflictError(_l("The payment cycle is not at this step any more."))


def check_four_eyes(cycle: Any, user: Any) -> None:
    """The approver (财政) is never the officer who computed or reviewed the cycle."""
    uid = getattr(user, "id", None)
    if uid is not None and uid in (cycle.reviewed_by_id, cycle.computed_by_id):
        raise FourEyes(
            _l("Four eyes: the officer who computed or reviewed a cycle cannot approve it.")
        )


def cycle_conflict() -> ConflictError:
    """What a stale cycle form answers: the kernel's `check_version(cycle, version,
    cycle_conflict)` (no version → 400 naming `row_version`, stale → 409)."""
    return ConflictError(_l("The payment cycle changed after you opened it."))


# -- claims -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CapResult:
    accepted: int  # days or times accepted
    refused: int
    reason: tuple[str, tuple[Any, ...]] | None  # structured, rendered by `reasons`


def split_years(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The days start..end cut at New Year (caps count per calendar year)."""
    out, a = [], start
    while a <= end:
        b = min(end, dt.date(a.year, 12, 31))
        out.append((a, b))
        a = b + dt.timedelta(days=1)
    return out


def days_by_year(start: dt.date, end: dt.date) -> dict[int, int]:
    return {a.year: (b - a).days + 1 for a, b in split_years(start, end)}


def cap_claim(
    standard: Any,
    start: dt.date,
    end: dt.date,
    used_by_year: dict[int, int],
    used_ever: int,
) -> CapResult:
    """How much of a claim the standard's cap allows (`max_quantity` per year / in all,
    or once in a lifetime); the rest is refused with the reason."""
    frequency = standard.frequency
    once = (standard.rule or {}).get("once") == "lifetime"
    if once and used_ever:
        return CapResult(0, 1, ("once", ()))
    asked_by_year = days_by_year(start, end) if frequency == "daily" else {start.year: 1}
    asked = sum(asked_by_year.values())
    cap, unit = (
        getattr(standard, "max_quantity", None),
        getattr(standard, "max_quantity_unit", None),
    )
    if cap is None or unit is None:
        return CapResult(asked, 0, None)
    if unit in ("days_per_year", "times_per_year"):
        accepted = 0
        first_over: tuple[int, int] | None = None
        for year, n in sorted(asked_by_year.items()):
            room = max(cap - used_by_year.get(year, 0), 0)
            take = min(room, n)
            accepted += take
            if take < n and first_over is None:
                first_over = (year, used_by_year.get(year, 0) + take + 1)
        if accepted == asked:
            return CapResult(asked, 0, None)
        year, nth = first_over or (start.year, cap + 1)
        return CapResult(accepted, asked - accepted, ("cap_year", (unit, cap, year, nth)))
    room = max(cap - used_ever, 0)  # `times`: in all
    take = min(room, asked)
    if take == asked:
        return CapResult(asked, 0, None)
    return CapResult(take, asked - take, ("cap_total", (unit, cap, used_ever + take + 1)))
