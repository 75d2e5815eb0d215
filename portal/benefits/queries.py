"""Reads of the benefit ledger, with bounded query counts (no writes)."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.benefits.models import (
    Claim,
    CycleStatus,
    LineKind,
    LineStatus,
    PaymentCycle,
    PaymentLine,
)
from portal.extensions import db
from portal.kernel import labels
from portal.tenancy import scope

ZERO = decimal.Decimal("0")
PART_WORDS = {"whole": "全部金额", "base": "基础部分（原定比例）", "increase": "提标增加部分"}
PART_LABELS = {
    "whole": _l("Whole amount"),
    "base": _l("Base (earlier split, not stated)"),
    "increase": _l("Increase"),
}
PAGE = 50
SORTS = {
    "position": PaymentLine.position,
    "amount": PaymentLine.amount,
    "period": PaymentLine.period,
    "standard": PaymentLine.standard_name,
    "kind": PaymentLine.kind,
}


def cycles() -> list[PaymentCycle]:
    """Every cycle visible to the user, newest first (one query)."""
    return list(db.session.execute(cycle_select()).scalars().all())


def cycle_select() -> sa.Select:
    """The cycles newest first: the list and its Excel export read the same statement."""
    return sa.select(PaymentCycle).order_by(PaymentCycle.period.desc())


def get_cycle(raw_id: Any) -> PaymentCycle | None:
    return scope.get_scoped(PaymentCycle, raw_id)


def lines(
    cycle: PaymentCycle,
    *,
    kind: str = "",
    status: str = "",
    q: str = "",
    sort: str = "position",
    desc: bool = False,
    page: int = 1,
    per_page: int = PAGE,
) -> tuple[list[PaymentLine], int]:
    """One page of a cycle's lines (the scoping hook narrows a town officer to their town),
    with the total count: two queries."""
    query = line_select(cycle, kind=kind, status=status, q=q)
    total = db.session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar()
    col = SORTS.get(sort, PaymentLine.position)
    order = col.desc() if desc else col.asc()
    page = max(1, page)
    rows = (
        db.session.execute(
            query.order_by(order, PaymentLine.position)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        .scalars()
        .all()
    )
    return list(rows), int(total or 0)


def line_select(cycle: PaymentCycle, *, kind: str = "", status: str = "", q: str = "") -> sa.Select:
    """A cycle's lines with the list's filters (kind, status, benefit or household number),
    unordered: the page and its Excel export read the same statement."""
    query = sa.select(PaymentLine).where(PaymentLine.cycle_id == cycle.id)
    if kind in {k.value for k in LineKind}:
        query = query.where(PaymentLine.kind == kind)
    if status in {s.value for s in LineStatus}:
        query = query.where(PaymentLine.status == status)
    if q:
        query = query.where(
            sa.or_(
                PaymentLine.standard_name.contains(q[:60], autoescape=True),
                PaymentLine.household_id.in_(_households_numbered(q)),
            )
        )
    return query


def _households_numbered(q: str) -> sa.Select:
    from portal.register.models import Household

    return sa.select(Household.id).where(Household.number == q.strip()[:30])


def all_lines(cycle: PaymentCycle) -> list[PaymentLine]:
    return list(
        db.session.execute(
            sa.select(PaymentLine)
            .where(PaymentLine.cycle_id == cycle.id)
            .order_by(PaymentLine.position)
        )
        .scalars()
        .all()
    )


def household_names(ids: set[Any]) -> dict[Any, tuple[str, str]]:
    """(number, head's name) per household id, as the user may see them (one query)."""
    from portal.register.models import Household

    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Household.id, Household.number, Household.head_name).where(Household.id.in_(ids))
    ).all()
    return {r[0]: (r[1], r[2]) for r in rows}


def person_names(ids: set[Any]) -> dict[Any, str]:
    from portal.register.models import Person

    ids = {i for i in ids if i}
    if not ids:
        return {}
    rows = db.session.execute(sa.select(Person.id, Person.name).where(Person.id.in_(ids))).all()
    return dict(rows)


def funding_totals(cycle: PaymentCycle) -> dict[tuple[str, str], decimal.Decimal]:
    """(part, level) → amount over the cycle's cash lines (services are counted, not paid)."""
    out: dict[tuple[str, str], decimal.Decimal] = defaultdict(lambda: ZERO)
    rows = db.session.execute(
        sa.select(PaymentLine.funding).where(
            PaymentLine.cycle_id == cycle.id, PaymentLine.in_kind.is_(False)
        )
    ).scalars()
    for funding in rows:
        for part, level, amount in funding or []:
            out[(part, level)] += decimal.Decimal(str(amount))
    return dict(out)


def totals_by_standard(cycle: PaymentCycle) -> list[tuple[str, str, str, int, float]]:
    rows = db.session.execute(
        sa.select(
            PaymentLine.measure_number,
            PaymentLine.standard_name,
            PaymentLine.kind,
            sa.func.count(),
            sa.func.sum(PaymentLine.amount),
        )
        .where(PaymentLine.cycle_id == cycle.id)
        .group_by(PaymentLine.measure_number, PaymentLine.standard_name, PaymentLine.kind)
        .order_by(PaymentLine.measure_number, PaymentLine.standard_name, PaymentLine.kind)
    ).all()
    return [(m, n, str(getattr(k, "value", k)), int(c), float(s or 0)) for m, n, k, c, s in rows]


def figures() -> dict[str, Any]:
    """The district's benefit figures over all cycles (the lead's panel), from
    `period_figures`: paid at the first attempt (share of bank results paid), arrears and
    recoveries (追回) outstanding, paid by standard, the latest cycle."""
    rows = period_figures(counts=False)
    total = rows[-1] if rows else None
    paid = total.paid_lines if total else 0
    failed = total.failed_lines if total else 0
    latest = db.session.execute(
        sa.select(PaymentCycle).order_by(PaymentCycle.period.desc()).limit(1)
    ).scalar()
    return {
        "paid_on_time": round(100 * paid / (paid + failed)) if paid + failed else None,
        "paid_lines": paid,
        "failed_lines": failed,
        "arrears_outstanding": total.arrears_pending if total else ZERO,
        "recoveries_outstanding": total.recoveries_pending if total else ZERO,
        "latest": latest,
        "paid_by_standard": sorted((r.name, r.paid) for r in rows[:-1] if r.paid),
    }


@dataclass(frozen=True)
class PeriodFigures:
    """Money of the cycles of a span of months (by the cycle's month), cash lines only:
    what the cycles set out to pay, what the bank paid and to how many households, arrears
    still to pay, failed payments (carried to the next cycle), recoveries still to collect."""

    name: str  # the standard's name; "" for all standards
    cycles: int
    households_paid: int
    paid_lines: int
    due: decimal.Decimal
    paid: decimal.Decimal
    arrears_pending: decimal.Decimal
    failed_lines: int
    failed_amount: decimal.Decimal
    recoveries_pending: decimal.Decimal


def period_figures(
    first: dt.date | None = None,
    last: dt.date | None = None,
    measure_number: str | None = None,
    counts: bool = True,
) -> list[PeriodFigures]:
    """One row per standard (by measure, then name) and the total last; empty when no
    cycle of the span (None: all cycles) has a cash line. Four queries, whatever the
    number of lines; one without `counts` (households paid and cycles left at 0)."""
    cycle_ids = sa.select(PaymentCycle.id)
    if first is not None and last is not None:
        cycle_ids = cycle_ids.where(PaymentCycle.period.between(first, last))
    where = [PaymentLine.cycle_id.in_(cycle_ids), PaymentLine.in_kind.is_(False)]
    if measure_number is not None:
        where.append(PaymentLine.measure_number == measure_number)
    std = (PaymentLine.measure_number, PaymentLine.standard_name)
    sums = db.session.execute(
        sa.select(
            *std,
            PaymentLine.kind,
            PaymentLine.status,
            sa.func.count(),
            sa.func.sum(PaymentLine.amount),
        )
        .where(*where)
        .group_by(*std, PaymentLine.kind, PaymentLine.status)
    ).all()
    if not sums:
        return []
    households, everyone, cycles = _counts(where, cycle_ids) if counts else ({}, 0, 0)
    acc: dict[tuple[str, str], dict[str, Any]] = {}
    for m, n, kind, status, count, amount in sums:
        kind, status = labels.code(kind), labels.code(status)
        amount = decimal.Decimal(str(amount or 0))
        for key in ((m, n), ("", "")):
            a = acc.setdefault(key, defaultdict(lambda: ZERO))
            if amount > 0:
                a["due"] += amount
            if status == "paid":
                a["paid"] += amount
                a["paid_lines"] += count
            elif status == "failed":
                a["failed_lines"] += count
                a["failed_amount"] += amount
            elif kind == "arrears":
                a["arrears_pending"] += amount
            elif kind == "recovery":
                a["recoveries_pending"] -= amount
    total = acc.pop(("", ""))
    keys = sorted(acc, key=lambda k: (_natural(k[0]), k[1]))
    return [
        PeriodFigures(
            name=n,
            cycles=int(cycles or 0),
            households_paid=int((households.get((m, n)) if n else everyone) or 0),
            paid_lines=int(a["paid_lines"]),
            due=a["due"],
            paid=a["paid"],
            arrears_pending=a["arrears_pending"],
            failed_lines=int(a["failed_lines"]),
            failed_amount=a["failed_amount"],
            recoveries_pending=a["recoveries_pending"],
        )
        for (m, n), a in [*((k, acc[k]) for k in keys), (("", ""), total)]
    ]


def _counts(where: list, cycle_ids: sa.Select) -> tuple[dict, int, int]:
    """Households paid per standard and in all (a household may be paid under several),
    and the number of cycles of the span."""
    std = (PaymentLine.measure_number, PaymentLine.standard_name)
    paid = (*where, PaymentLine.status == LineStatus.paid, PaymentLine.amount > 0)
    households = sa.func.count(sa.distinct(PaymentLine.household_id))
    per = db.session.execute(sa.select(*std, households).where(*paid).group_by(*std)).all()
    everyone = db.session.execute(sa.select(households).where(*paid)).scalar()
    cycles = db.session.execute(
        sa.select(sa.func.count()).select_from(cycle_ids.subquery())
    ).scalar()
    return {(m, n): c for m, n, c in per}, int(everyone or 0), int(cycles or 0)


def _natural(number: str) -> tuple:
    """2 before 10 (digits as numbers; any other part after them, as text)."""
    return tuple((0, int(x), "") if x.isdigit() else (1, 0, x) for x in number.split("."))


def claim_select() -> sa.Select:
    """The claims newest first: the list, its pages and its Excel export read it."""
    return sa.select(Claim).order_by(Claim.entered_at.desc(), Claim.id)


def open_cycles() -> int:
    return int(
        db.session.execute(
            sa.select(sa.func.count()).where(PaymentCycle.status != CycleStatus.closed)
        ).scalar()
        or 0
    )


def household_by_number(number: str) -> Any:
    """A household by its 档案号, as the user may see it (None otherwise)."""
    from portal.register.models import Household

    number = (number or "").strip()[:30]
    if not number:
        return None
    return db.session.execute(sa.select(Household).where(Household.number == number)).scalar()


def member(household_id: Any, relationship: str) -> Any:
    from portal.register.models import Person

    if relationship not in ("principal", "spouse", "child", "other"):
        return None
    return (
        db.session.execute(
            sa.select(Person)
            .where(Person.household_id == household_id, Person.relationship_ == relationship)
            .order_by(Person.position)
            .limit(1)
        )
        .scalars()
        .first()
    )


__all__ = ["uuid"]
