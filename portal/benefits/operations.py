"""Writes of a payment cycle's steps: create, compute, review, approve. One function per
user action; no commit (the caller's unit of work commits). Claims are entered in
`portal.benefits.claims`, the bank file and its results in `portal.benefits.bank`.

A cycle's lines are written set-based (one multi-row INSERT) and recorded as one audited
event carrying the counts, the total and the two hashes (inputs, lines): any later change
to a line would no longer match the hash in the trail. Every step is an explicit event;
every step checks the version of the cycle the form was shown (kernel `check_version`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.audit import trail
from portal.benefits import engine, lines
from portal.benefits.digest import MONTHS, digest
from portal.benefits.facts import policy_standards, register_facts
from portal.benefits.models import Claim, ClaimStatus, CycleStatus, PaymentCycle, PaymentLine
from portal.benefits.rules import (
    BenefitsError,
    can_approve,
    can_compute,
    can_review,
    check_four_eyes,
    check_step,
    cycle_conflict,
)
from portal.benefits.settlement import settle
from portal.db import utcnow
from portal.extensions import db
from portal.kernel.rules import NotAllowed, check_version
from portal.register.operations import district_wide

ZERO = decimal.Decimal("0")


def name_of(user: Any) -> str:
    return getattr(user, "display_name", None) or getattr(user, "username", "") or "system"


def deny() -> NotAllowed:
    return NotAllowed(_l("You do not have permission to do this."))


def uid(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def create_cycle(user: Any, period: dt.date) -> PaymentCycle:
    """A new monthly cycle (draft); cycles run in month order."""
    if not can_compute(user):
        raise deny()
    month = engine.month_start(period)
    latest = db.session.execute(sa.select(sa.func.max(PaymentCycle.period))).scalar()
    if latest is not None and month <= latest:
        shown = latest.strftime("%Y-%m")
        raise BenefitsError(
            _l("Cycles run in month order: the next cycle must be after %(month)s.", month=shown),
            "period",
        )
    cycle = PaymentCycle(period=month, created_by_name=name_of(user))
    db.session.add(cycle)
    db.session.flush()
    return cycle


def compute_cycle(user: Any, cycle: PaymentCycle, row_version: Any) -> PaymentCycle:
    """Compute (or recompute, before review) the cycle's lines from the confirmed register
    and the policy's standards: this month, arrears and recoveries for every earlier month
    since the first cycle, and accepted claims not yet paid."""
    if not can_compute(user):
        raise deny()
    check_step(cycle, CycleStatus.computed)
    check_version(cycle, row_version, cycle_conflict)
    # The collector paused for the whole computation (`engine.collector_paused`): facts,
    # lines, settled lines and rows are tens of thousands of acyclic objects per district,
    # and their allocations set off full collections over the process's heap (the largest
    # district's settlement alone took 0.8 s of them; docs/performance.md, fifth session).
    with engine.collector_paused():
        return _compute(user, cycle)


def _compute(user: Any, cycle: PaymentCycle) -> PaymentCycle:
    """`compute_cycle` once its checks passed."""
    with district_wide():
        facts = register_facts()
        version, standards = policy_standards(cycle.period)
        db.session.execute(sa.delete(PaymentLine).where(PaymentLine.cycle_id == cycle.id))
        for claim in db.session.execute(
            sa.select(Claim).where(Claim.cycle_id == cycle.id)
        ).scalars():
            claim.cycle_id = None
        first = db.session.execute(sa.select(sa.func.min(PaymentCycle.period))).scalar()
        input_hash = digest(facts, standards)
        owed = MONTHS.owed(
            input_hash, engine.months(first or cycle.period, cycle.period), facts, standards
        )
        settled = lines.with_funding(settle(owed, lines.covered(cycle.id), cycle.period), cycle.id)
        towns = {h.id: h.town_id for h in facts}
        make = lines.RowMaker(cycle)
        rows = [make.line(i + 1, s, towns) for i, s in enumerate(settled)]
        claims = (
            db.session.execute(
                sa.select(Claim)
                .where(
                    Claim.status == ClaimStatus.accepted,
                    Claim.cycle_id.is_(None),
                    Claim.start <= engine.month_end(cycle.period),
                )
                .order_by(Claim.start, Claim.id)
            )
            .scalars()
            .all()
        )
        by_key = {s.key: s for s in standards}
        for claim in claims:
            rows.append(make.claim(len(rows) + 1, claim, by_key.get(claim.standard_key)))
            claim.cycle_id = cycle.id
    lines.insert_rows(rows)
    total = sum((decimal.Decimal(r["amount"]) for r in rows if not r["in_kind"]), ZERO)
    cycle.policy_version_id = version.id if version is not None else None
    cycle.input_hash = input_hash
    cycle.lines_hash = digest((), (), [lines.hashable(r) for r in rows])
    cycle.total = total
    cycle.line_count = len(rows)
    kinds: dict[str, int] = defaultdict(int)
    for r in rows:
        kinds[r["kind"]] += 1
    _advance(
        user,
        cycle,
        CycleStatus.computed,
        "benefit_cycle_computed",
        summary=f"{cycle}: {len(rows)} lines, {total} 元",
        lines=len(rows),
        by_kind=dict(kinds),
        total=str(total),
        input_hash=cycle.input_hash,
    )
    return cycle


def review_cycle(user: Any, cycle: PaymentCycle, row_version: Any) -> PaymentCycle:
    """卫健 reviews the computed lines (审核)."""
    return _step(user, cycle, row_version, can_review, CycleStatus.reviewed)


def approve_cycle(user: Any, cycle: PaymentCycle, row_version: Any) -> PaymentCycle:
    """财政 approves (审批) — never the officer who computed or reviewed (four eyes)."""
    return _step(user, cycle, row_version, can_approve, CycleStatus.approved, check_four_eyes)


def _step(
    user: Any,
    cycle: PaymentCycle,
    row_version: Any,
    may: Callable[[Any], bool],
    to: CycleStatus,
    check: Callable[[PaymentCycle, Any], None] | None = None,
) -> PaymentCycle:
    """A step that only records who took it: permission, order, version, then `check`."""
    if not may(user):
        raise deny()
    check_step(cycle, to)
    check_version(cycle, row_version, cycle_conflict)
    if check is not None:
        check(cycle, user)
    _advance(user, cycle, to, f"benefit_cycle_{to.value}")
    return cycle


#: The step's who/when columns on the cycle (`<prefix>_by_id`, `_by_name`, `_at`).
_STAMPS = {
    CycleStatus.computed: "computed",
    CycleStatus.reviewed: "reviewed",
    CycleStatus.approved: "approved",
}


def _advance(user: Any, cycle: PaymentCycle, to: CycleStatus, action: str, **data: Any) -> None:
    """Move the cycle on one step: who and when, the version, the audited event."""
    prefix = _STAMPS[to]
    setattr(cycle, f"{prefix}_by_id", getattr(user, "id", None))
    setattr(cycle, f"{prefix}_by_name", name_of(user))
    setattr(cycle, f"{prefix}_at", utcnow())
    cycle.status = to
    cycle.row_version += 1
    step_event(action, cycle, **data)


def step_event(action: str, cycle: PaymentCycle, summary: str = "", **data: Any) -> None:
    """The explicit event of a cycle's step (period and lines hash, plus the step's data)."""
    trail.record(
        db.session,
        action,
        entity_type="PaymentCycle",
        entity_id=cycle.id,
        summary=summary or f"{cycle}",
        data={"period": cycle.period, "lines_hash": cycle.lines_hash, **data},
    )
    db.session.flush()


__all__ = ["approve_cycle", "compute_cycle", "create_cycle", "review_cycle"]
