"""Writes of the benefit ledger: one function per user action; no commit (the caller's
unit of work commits).

A cycle's lines are written set-based (one multi-row INSERT) and recorded as one audited
event carrying the counts, the total and the two hashes (inputs, lines): any later change
to a line would no longer match the hash in the trail. Cycles, claims and bank accounts
are ordinary audited rows; every step of a cycle is also an explicit event.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import uuid
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.audit import trail
from portal.benefits import engine
from portal.benefits.facts import policy_standards, register_facts
from portal.benefits.models import (
    Claim,
    ClaimStatus,
    CycleStatus,
    LineKind,
    LineStatus,
    PayeeAccount,
    PaymentCycle,
    PaymentLine,
    mask_account,
)
from portal.benefits.rules import (
    BenefitsError,
    NotFound,
    can_approve,
    can_claim,
    can_compute,
    can_pay,
    can_review,
    cap_claim,
    check_four_eyes,
    check_step,
    check_version,
)
from portal.db import utcnow
from portal.extensions import db
from portal.kernel.grants import SYSTEM
from portal.kernel.rules import NotAllowed
from portal.register import pii
from portal.register.operations import district_wide
from portal.tenancy import scope

ZERO = decimal.Decimal("0")


def _name(user: Any) -> str:
    return getattr(user, "display_name", None) or getattr(user, "username", "") or "system"


def _deny() -> NotAllowed:
    return NotAllowed(_l("You do not have permission to do this."))


def _uid(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


# -- cycles ------------------------------------------------------------------------------


def create_cycle(user: Any, period: dt.date) -> PaymentCycle:
    """A new monthly cycle (draft); cycles run in month order."""
    if not can_compute(user):
        raise _deny()
    month = engine.month_start(period)
    latest = db.session.execute(sa.select(sa.func.max(PaymentCycle.period))).scalar()
    if latest is not None and month <= latest:
        shown = latest.strftime("%Y-%m")
        raise BenefitsError(
            _l("Cycles run in month order: the next cycle must be after %(month)s.", month=shown),
            "period",
        )
    cycle = PaymentCycle(period=month, created_by_name=_name(user))
    db.session.add(cycle)
    db.session.flush()
    return cycle


def _covered(exclude_cycle: uuid.UUID) -> dict[tuple, engine.Paid]:
    """What other cycles cover per line key: paid or in-flight amounts (failures apart),
    summed in SQL; funding parts are fetched later, only for keys that need them."""
    key_cols = (
        PaymentLine.standard_key,
        PaymentLine.household_id,
        PaymentLine.person_id,
        PaymentLine.period,
    )
    failed = PaymentLine.status == LineStatus.failed
    rows = db.session.execute(
        sa.select(
            *key_cols,
            sa.func.sum(sa.case((failed, 0), else_=PaymentLine.amount)),
            sa.func.max(sa.case((failed, PaymentLine.result_reason), else_=None)),
        )
        .where(PaymentLine.cycle_id != exclude_cycle, PaymentLine.kind != LineKind.claim)
        .group_by(*key_cols)
    ).all()
    out = {}
    for key_std, hid, pid, period, amount, why in rows:
        key = (key_std, str(hid), str(pid) if pid else "", period)
        out[key] = engine.Paid(
            decimal.Decimal(str(amount or 0)).quantize(engine.CENT), (), why or ""
        )
    return out


def _with_funding(settled: list[engine.Settled], exclude_cycle: uuid.UUID) -> list[engine.Settled]:
    """Settled lines against earlier payments: funding = owed parts − already paid parts
    (one query for the keys concerned; a rise's arrears are all increase, for instance)."""
    need = {s.line.key for s in settled if s.kind != "regular"}
    if not need:
        return settled
    households = {uuid.UUID(k[1]) for k in need}
    paid: dict[tuple, list] = defaultdict(list)
    for key_std, hid, pid, period, funding in db.session.execute(
        sa.select(
            PaymentLine.standard_key,
            PaymentLine.household_id,
            PaymentLine.person_id,
            PaymentLine.period,
            PaymentLine.funding,
        ).where(
            PaymentLine.cycle_id != exclude_cycle,
            PaymentLine.kind != LineKind.claim,
            PaymentLine.status != LineStatus.failed,
            PaymentLine.household_id.in_(households),
        )
    ):
        key = (key_std, str(hid), str(pid) if pid else "", period)
        if key in need:
            paid[key].extend((p, lvl, decimal.Decimal(str(a))) for p, lvl, a in funding or [])
    out = []
    for s in settled:
        if s.kind == "regular":
            out.append(s)
            continue
        parts = engine._minus(s.line.funding, tuple(paid.get(s.line.key, ())))
        out.append(dataclasses.replace(s, funding=parts))
    return out


def _line_row(
    cycle: PaymentCycle, position: int, s: engine.Settled, towns: dict[str, str]
) -> dict[str, Any]:
    line = s.line
    reasons = [list(r) for r in line.reasons]
    if s.kind != "regular":
        reasons.insert(0, ["cause", [s.cause]])
    return {
        "tenant_id": cycle.tenant_id,
        "id": uuid.uuid4(),
        "cycle_id": cycle.id,
        "position": position,
        "kind": s.kind,
        "cause": s.cause,
        "standard_key": line.standard_key,
        "standard_name": line.standard_key.split("/", 1)[-1],
        "measure_number": line.standard_key.split("/", 1)[0],
        "household_id": uuid.UUID(line.household_id),
        "person_id": uuid.UUID(line.person_id) if line.person_id else None,
        "town_id": uuid.UUID(towns[line.household_id]) if line.household_id in towns else None,
        "period": line.period,
        "amount": s.amount,
        "owed": line.amount,
        "payee": line.payee or "person",
        "in_kind": line.in_kind,
        "reasons": engine._plain(reasons),
        "funding": engine._plain([list(f) for f in s.funding]),
        "status": (LineStatus.counted if line.in_kind else LineStatus.pending).value,
        "result_reason": "",
        "claim_id": None,
    }


def compute_cycle(user: Any, cycle: PaymentCycle, row_version: Any = None) -> PaymentCycle:
    """Compute (or recompute, before review) the cycle's lines from the confirmed register
    and the policy's standards: this month, arrears and recoveries for every earlier month
    since the first cycle, and accepted claims not yet paid."""
    if not can_compute(user):
        raise _deny()
    check_step(cycle, CycleStatus.computed)
    check_version(cycle, row_version)
    with district_wide():
        facts = register_facts()
        version, standards = policy_standards(cycle.period)
        db.session.execute(sa.delete(PaymentLine).where(PaymentLine.cycle_id == cycle.id))
        for claim in db.session.execute(
            sa.select(Claim).where(Claim.cycle_id == cycle.id)
        ).scalars():
            claim.cycle_id = None
        first = db.session.execute(sa.select(sa.func.min(PaymentCycle.period))).scalar()
        input_hash = engine.digest(facts, standards)
        owed = engine.MONTHS.owed(
            input_hash, engine.months(first or cycle.period, cycle.period), facts, standards
        )
        settled = _with_funding(engine.settle(owed, _covered(cycle.id), cycle.period), cycle.id)
        towns = {h.id: h.town_id for h in facts}
        rows = [_line_row(cycle, i + 1, s, towns) for i, s in enumerate(settled)]
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
            std = by_key.get(claim.standard_key)
            rows.append(_claim_row(cycle, len(rows) + 1, claim, std))
            claim.cycle_id = cycle.id
    if rows:
        db.session.execute(sa.insert(PaymentLine), rows)
    total = sum((r["amount"] for r in rows if not r["in_kind"]), ZERO)
    cycle.policy_version_id = version.id if version is not None else None
    cycle.input_hash = input_hash
    cycle.lines_hash = engine.digest((), (), [_hashable(r) for r in rows])
    cycle.total = total
    cycle.line_count = len(rows)
    cycle.status = CycleStatus.computed
    cycle.computed_by_id = getattr(user, "id", None)
    cycle.computed_by_name = _name(user)
    cycle.computed_at = utcnow()
    cycle.row_version += 1
    kinds: dict[str, int] = defaultdict(int)
    for r in rows:
        kinds[r["kind"]] += 1
    trail.record(
        db.session,
        "benefit_cycle_computed",
        entity_type="PaymentCycle",
        entity_id=cycle.id,
        summary=f"{cycle}: {len(rows)} lines, {total} 元",
        data={
            "period": cycle.period,
            "lines": len(rows),
            "by_kind": dict(kinds),
            "total": str(total),
            "input_hash": cycle.input_hash,
            "lines_hash": cycle.lines_hash,
        },
    )
    db.session.flush()
    return cycle


def _hashable(row: dict) -> dict:
    """A line's content without its random id (the hash depends on content only)."""
    return {k: v for k, v in row.items() if k not in ("id", "tenant_id", "cycle_id", "claim_id")}


def _claim_row(cycle: PaymentCycle, position: int, claim: Claim, std: Any) -> dict[str, Any]:
    in_kind = bool(std and std.rule.get("in_kind"))
    payee = (std.rule.get("payee") if std else None) or (
        "person" if claim.person_id else "household"
    )
    funding = engine.funding(std, claim.amount, engine.first_rate(std)) if std else ()
    return {
        "tenant_id": cycle.tenant_id,
        "id": uuid.uuid4(),
        "cycle_id": cycle.id,
        "position": position,
        "kind": LineKind.claim.value,
        "cause": "",
        "standard_key": claim.standard_key,
        "standard_name": claim.standard_name,
        "measure_number": claim.standard_key.split("/", 1)[0],
        "household_id": claim.household_id,
        "person_id": claim.person_id,
        "town_id": claim.town_id,
        "period": engine.month_start(claim.start),
        "amount": claim.amount,
        "owed": claim.amount,
        "payee": payee,
        "in_kind": in_kind,
        "reasons": engine._plain(
            [["claim", [claim.start, claim.end, claim.quantity]], *claim.reason]
        ),
        "funding": engine._plain([list(f) for f in funding]),
        "status": (LineStatus.counted if in_kind else LineStatus.pending).value,
        "result_reason": "",
        "claim_id": claim.id,
    }


def review_cycle(user: Any, cycle: PaymentCycle, row_version: Any = None) -> PaymentCycle:
    """卫健 reviews the computed lines (审核)."""
    if not can_review(user):
        raise _deny()
    check_step(cycle, CycleStatus.reviewed)
    check_version(cycle, row_version)
    cycle.status = CycleStatus.reviewed
    cycle.reviewed_by_id = getattr(user, "id", None)
    cycle.reviewed_by_name = _name(user)
    cycle.reviewed_at = utcnow()
    cycle.row_version += 1
    _step_event("benefit_cycle_reviewed", cycle)
    return cycle


def approve_cycle(user: Any, cycle: PaymentCycle, row_version: Any = None) -> PaymentCycle:
    """财政 approves (审批) — never the officer who computed or reviewed (four eyes)."""
    if not can_approve(user):
        raise _deny()
    check_step(cycle, CycleStatus.approved)
    check_version(cycle, row_version)
    check_four_eyes(cycle, user)
    cycle.status = CycleStatus.approved
    cycle.approved_by_id = getattr(user, "id", None)
    cycle.approved_by_name = _name(user)
    cycle.approved_at = utcnow()
    cycle.row_version += 1
    _step_event("benefit_cycle_approved", cycle)
    return cycle


def _step_event(action: str, cycle: PaymentCycle, **data: Any) -> None:
    trail.record(
        db.session,
        action,
        entity_type="PaymentCycle",
        entity_id=cycle.id,
        summary=f"{cycle}",
        data={"period": cycle.period, "lines_hash": cycle.lines_hash, **data},
    )
    db.session.flush()


# -- bank file ----------------------------------------------------------------------------


def bank_lines(cycle: PaymentCycle) -> list[PaymentLine]:
    """Lines the bank pays: positive cash to a person or a household, not yet settled."""
    return list(
        db.session.execute(
            sa.select(PaymentLine)
            .where(
                PaymentLine.cycle_id == cycle.id,
                PaymentLine.amount > 0,
                PaymentLine.in_kind.is_(False),
                PaymentLine.payee.in_(("person", "household")),
            )
            .order_by(PaymentLine.position)
        )
        .scalars()
        .all()
    )


def accounts_for(lines: list[PaymentLine]) -> dict[tuple, PayeeAccount]:
    """Each line's account: the person's, else the household's own."""
    hids = {line.household_id for line in lines}
    if not hids:
        return {}
    rows = db.session.execute(
        sa.select(PayeeAccount).where(PayeeAccount.household_id.in_(hids))
    ).scalars()
    return {(a.household_id, a.person_id): a for a in rows}


def mark_exported(user: Any, cycle: PaymentCycle, rows: int, missing: list[PaymentLine]) -> None:
    """After the bank file is written: lines without an account fail now (and carry over)."""
    if not can_pay(user):
        raise _deny()
    check_step(cycle, CycleStatus.exported)
    for line in missing:
        line.status = LineStatus.failed
        line.result_reason = "无收款账户"
    cycle.status = CycleStatus.exported
    cycle.exported_at = utcnow()
    cycle.row_version += 1
    _step_event("benefit_bank_file_exported", cycle, rows=rows, without_account=len(missing))


def import_results(user: Any, cycle: PaymentCycle, results: list[dict]) -> dict[str, int]:
    """The bank's results, matched line by line (`line_id`, `amount`, `paid`, `reason`):
    all rows are checked first; nothing is written when one is wrong. The cycle closes
    when every bank line has its result."""
    if not can_pay(user):
        raise _deny()
    if cycle.status != CycleStatus.exported:
        raise BenefitsError(
            _l("Results can only be imported for a cycle whose bank file was exported.")
        )
    lines = {line.id: line for line in bank_lines(cycle)}
    errors: list[str] = []
    seen: set[uuid.UUID] = set()
    plan: list[tuple[PaymentLine, bool, str]] = []
    for r in results:
        row = r.get("row", "?")
        try:
            lid = _uid(r.get("line_id"))
        except ValueError:
            lid = None
        line = lines.get(lid) if lid else None
        if line is None:
            errors.append(str(_l("Row %(row)s: no such line in this cycle.", row=row)))
            continue
        if lid in seen:
            errors.append(str(_l("Row %(row)s: the line appears twice.", row=row)))
            continue
        seen.add(lid)
        try:
            amount = decimal.Decimal(str(r.get("amount"))).quantize(engine.CENT)
        except (decimal.InvalidOperation, TypeError, ValueError):
            amount = None
        if amount != line.amount:
            errors.append(str(_l("Row %(row)s: the amount differs from the line's.", row=row)))
            continue
        paid = r.get("paid")
        if paid is None:
            errors.append(str(_l("Row %(row)s: the result must be 成功 or 失败.", row=row)))
            continue
        reason = (r.get("reason") or "").strip()[:200]
        if not paid and not reason:
            errors.append(
                str(_l("Row %(row)s: a failed payment needs the bank's reason.", row=row))
            )
            continue
        if line.status != LineStatus.pending:
            continue  # already settled (no account): nothing to do
        plan.append((line, bool(paid), reason))
    if errors:
        raise BenefitsError("; ".join(errors[:20]) + (" …" if len(errors) > 20 else ""), "file")
    counts = {"paid": 0, "failed": 0}
    for line, paid, reason in plan:
        line.status = LineStatus.paid if paid else LineStatus.failed
        line.result_reason = "" if paid else reason
        counts["paid" if paid else "failed"] += 1
    db.session.flush()
    still = [line for line in lines.values() if line.status == LineStatus.pending]
    if not still:
        cycle.status = CycleStatus.closed
        cycle.closed_at = utcnow()
        cycle.row_version += 1
    _step_event("benefit_results_imported", cycle, **counts, pending=len(still))
    return {**counts, "pending": len(still)}


# -- claims --------------------------------------------------------------------------------


def claimable_standards() -> list[engine.Standard]:
    _version, standards = policy_standards(engine.month_start(_today()))
    return [s for s in standards if s.rule.get("basis") == "claim"]


def _today() -> dt.date:
    from portal.kernel.clock import today

    return today()


def enter_claim(
    user: Any,
    *,
    household_id: Any,
    person_id: Any,
    standard_key: str,
    start: dt.date,
    end: dt.date | None = None,
    evidence_note: str = "",
) -> list[Claim]:
    """申领: a per-event benefit with its dates and evidence; the cap, once-in-a-lifetime
    and eligibility decide what is accepted, the rest is refused with the reason. A claim
    across New Year is kept as one claim per year (caps count per year)."""
    from portal.register.models import Household

    if not can_claim(user):
        raise _deny()
    household = scope.get_scoped(Household, _uid(household_id))
    if household is None:
        raise NotFound(_l("The household was not found."))
    std = next((s for s in claimable_standards() if s.key == standard_key), None)
    if std is None:
        raise BenefitsError(_l("Choose a benefit that is claimed per event."), "standard_key")
    end = end or start
    if end < start:
        raise BenefitsError(_l("The end date is before the start date."), "end")
    if std.frequency != "daily":
        end = start
    with district_wide():
        facts = next(iter(register_facts_for(household.id)), None)
    pid = _uid(person_id)
    person = None
    if "person" in std.unit:
        person = next((p for p in facts.persons if p.id == str(pid)), None) if facts else None
        if person is None:
            raise BenefitsError(_l("Choose a member of the household."), "person_id")
    else:
        pid = None
    if not evidence_note.strip():
        raise BenefitsError(
            _l("Describe the evidence (e.g. the hospital's discharge note)."), "evidence_note"
        )
    out = []
    pieces = _split_years(start, end)
    for a, b in pieces:
        out.append(_one_claim(user, household, facts, std, pid, person, a, b, evidence_note))
    db.session.flush()
    return out


def register_facts_for(household_id: uuid.UUID) -> list[engine.HouseholdFacts]:
    return register_facts(household_id=household_id)


def _split_years(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    out, a = [], start
    while a <= end:
        b = min(end, dt.date(a.year, 12, 31))
        out.append((a, b))
        a = b + dt.timedelta(days=1)
    return out


def _one_claim(
    user: Any,
    household: Any,
    facts: Any,
    std: engine.Standard,
    pid: uuid.UUID | None,
    person: Any,
    start: dt.date,
    end: dt.date,
    evidence: str,
) -> Claim:
    asked = (end - start).days + 1 if std.frequency == "daily" else 1
    claim = Claim(
        standard_key=std.key,
        standard_name=std.name,
        household_id=household.id,
        person_id=pid,
        town_id=household.town_id,
        start=start,
        end=end,
        asked=asked,
        evidence_note=evidence.strip()[:2000],
        entered_by_name=_name(user),
    )
    if facts is None or not engine.eligible(std, facts, person, start):
        return _refused(claim, [["not_eligible", [start.isoformat()]]])
    prior = db.session.execute(
        sa.select(Claim.start, Claim.end, Claim.quantity).where(
            Claim.standard_key == std.key,
            Claim.household_id == household.id,
            Claim.person_id.is_(None) if pid is None else Claim.person_id == pid,
            Claim.status == ClaimStatus.accepted,
        )
    ).all()
    if std.frequency == "daily" and any(s <= end and start <= e for s, e, _q in prior):
        return _refused(claim, [["overlap", [start.isoformat(), end.isoformat()]]])
    used_year: dict[int, int] = defaultdict(int)
    for s, _e, q in prior:
        used_year[s.year] += q
    result = cap_claim(std, start, end, dict(used_year), sum(q for _s, _e, q in prior))
    if result.accepted == 0:
        return _refused(claim, [list(result.reason)] if result.reason else [])
    rate = engine.rate_on(std, start)
    if rate is None:
        return _refused(claim, [["not_eligible", [start.isoformat()]]])
    claim.quantity = result.accepted
    claim.amount = (rate.amount * result.accepted).quantize(engine.CENT)
    claim.status = ClaimStatus.accepted
    claim.reason = engine._plain([list(result.reason)] if result.reason else [])
    db.session.add(claim)
    return claim


def _refused(claim: Claim, reason: list) -> Claim:
    claim.status = ClaimStatus.refused
    claim.quantity = 0
    claim.amount = ZERO
    claim.reason = engine._plain(reason)
    db.session.add(claim)
    return claim


# -- bank accounts -------------------------------------------------------------------------


def set_account(
    user: Any, *, household_id: Any, person_id: Any, holder: str, bank: str, account: str
) -> PayeeAccount:
    """A payee's bank account: stored encrypted with a blind index; audited masked."""
    from portal.register.models import Household

    if user is not SYSTEM and not can_claim(user):
        raise _deny()
    household = scope.get_scoped(Household, _uid(household_id))
    if household is None:
        raise NotFound(_l("The household was not found."))
    number = "".join((account or "").split())
    if not (8 <= len(number) <= 30) or not number.isdigit():
        raise BenefitsError(_l("The bank account number must have 8 to 30 digits."), "account")
    pid = _uid(person_id)
    row = db.session.execute(
        sa.select(PayeeAccount).where(
            PayeeAccount.household_id == household.id,
            PayeeAccount.person_id.is_(None) if pid is None else PayeeAccount.person_id == pid,
        )
    ).scalar()
    if row is None:
        row = PayeeAccount(household_id=household.id, person_id=pid)
        db.session.add(row)
    row.holder = (holder or "").strip()[:40]
    row.bank = (bank or "").strip()[:80]
    row.account = number
    row.account_index = pii.blind_index(number, "bank_account")
    db.session.flush()
    return row


__all__ = [
    "approve_cycle",
    "compute_cycle",
    "create_cycle",
    "enter_claim",
    "import_results",
    "mark_exported",
    "mask_account",
    "review_cycle",
    "set_account",
]
