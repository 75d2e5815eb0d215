"""The entitlement engine (应享待遇计算): what each person and household is owed for a month.

Pure functions over plain, frozen facts — no database, no clock, no request — so that the
same inputs always give the same lines (the cycle shows a hash of both) and property tests
can run it over thousands of generated cases. `portal.benefits.facts` reads the confirmed
register and the policy into these facts; `portal.benefits.settlement` sets what is owed
against what earlier cycles cover, `portal.benefits.digest` hashes inputs and lines, and
`portal.benefits.operations` stores the lines.

The rules come from the policy file only: `eligibility` (who), `values` (how much, dated),
`funding_split` (who pays), `entitlement` (how the engine computes: basis, persons, payee,
partial-period rule, due month, OR groups, reference + top-up). A standard without
`entitlement.basis: register` is never computed here (claims are entered by officers).

Reasons are kept structured — `(code, params)` — and put into words by
`portal.benefits.reasons`, so the same line reads in Chinese or English.
"""

from __future__ import annotations

import calendar
import datetime as dt
import decimal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

CENT = decimal.Decimal("0.01")
ZERO = decimal.Decimal("0")
GRADES = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
PARENTS = ("principal", "spouse")

Reason = tuple[str, tuple[Any, ...]]


# -- facts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonFacts:
    id: str
    relationship: str  # principal / spouse / child / other
    birth_date: dt.date
    gender: str  # female / male
    alive: bool = True
    death_date: dt.date | None = None
    disability_grade: str = ""


@dataclass(frozen=True)
class HouseholdFacts:
    id: str
    number: str
    town_id: str
    category: str  # bereaved / disabled_child / surgery_complication
    registered_on: dt.date
    woman_birth_date: dt.date | None = None
    level: str = ""
    exited_on: dt.date | None = None  # the exit date; from it on the household is out
    exited: bool = False
    persons: tuple[PersonFacts, ...] = ()


@dataclass(frozen=True)
class Rate:
    amount: decimal.Decimal
    start: dt.date | None  # None: in force before `end`, start not stated
    end: dt.date | None = None  # exclusive; set only for an `in_force_before` value
    source: str = ""


@dataclass(frozen=True)
class Standard:
    key: str  # stable across policy versions: "<measure number>/<benefit name>"
    name: str
    measure_number: str
    measure_title: str
    unit: str
    frequency: str
    rates: tuple[Rate, ...]
    eligibility: dict = field(default_factory=dict)
    rule: dict = field(default_factory=dict)  # the `entitlement` block
    funding_split: tuple[tuple[str, decimal.Decimal], ...] = ()
    split_applies_to: str = "whole"
    doc_number: str = ""
    max_quantity: int | None = None
    max_quantity_unit: str | None = None

    def __hash__(self) -> int:  # dict fields: hash by the stable key
        return hash(self.key)


@dataclass(frozen=True)
class Line:
    """One payee's entitlement under one standard for one month (before payment)."""

    standard_key: str
    household_id: str
    person_id: str  # "" for a household line
    period: dt.date  # the month's first day
    amount: decimal.Decimal
    payee: str  # person / household / institution
    in_kind: bool
    reasons: tuple[Reason, ...]
    funding: tuple[tuple[str, str, decimal.Decimal], ...]  # (part, level, amount)

    @property
    def key(self) -> tuple[str, str, str, dt.date]:
        return (self.standard_key, self.household_id, self.person_id, self.period)


# -- dates and amounts ------------------------------------------------------------------


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def next_month(month: dt.date) -> dt.date:
    return (month_end(month) + dt.timedelta(days=1)).replace(day=1)


def months(first: dt.date, last: dt.date) -> list[dt.date]:
    out, m = [], month_start(first)
    while m <= last:
        out.append(m)
        m = next_month(m)
    return out


def age_on(born: dt.date, on: dt.date) -> int:
    """Whole years (周岁)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def birthday(born: dt.date, years: int) -> dt.date:
    """The day someone born on `born` turns `years` (29 Feb → 1 Mar in other years)."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return dt.date(born.year + years, 3, 1)


def rate_on(
    standard: Standard, day: dt.date, by_key: dict[str, Standard] | None = None
) -> Rate | None:
    """The dated value in force on `day` (latest start on or before it), or by reference."""
    ref = standard.rule.get("reference")
    if ref and by_key is not None:
        target = next((s for s in by_key.values() if s.name == ref), None)
        base = rate_on(target, day) if target is not None else None
        if base is None:
            return None
        top = decimal.Decimal(str(standard.rule.get("top_up", 0)))
        return Rate(base.amount + top, base.start, base.end, base.source)
    found: Rate | None = None
    for r in standard.rates:
        if r.start is None:
            if r.end is not None and day < r.end:
                found = r
        elif r.start <= day:
            found = r
    return found


def grade_of(text: str) -> int | None:
    for ch in text or "":
        if ch in GRADES:
            return GRADES[ch]
    return None


# -- eligibility ------------------------------------------------------------------------


def household_in(h: HouseholdFacts, day: dt.date) -> bool:
    """On the register that day: registered, not yet exited."""
    if day < h.registered_on:
        return False
    return not (h.exited and (h.exited_on is None or day >= h.exited_on))


def person_alive(p: PersonFacts, day: dt.date) -> bool:
    if p.death_date is not None:
        return day < p.death_date
    return p.alive


def counted_persons(h: HouseholdFacts, rule: dict) -> list[PersonFacts]:
    which = rule.get("persons") or "parents"
    if which == "members":
        return list(h.persons)
    if which == "woman":
        return [p for p in h.persons if p.relationship in PARENTS and p.gender == "female"]
    return [p for p in h.persons if p.relationship in PARENTS]


def _group_holds(
    group: dict, h: HouseholdFacts, p: PersonFacts | None, day: dt.date, members: list[PersonFacts]
) -> bool:
    types = group.get("family_types")
    if types and h.category not in types:
        return False
    mother = group.get("mother_min_age")
    if mother is not None and (
        h.woman_birth_date is None or age_on(h.woman_birth_date, day) < mother
    ):
        return False
    lo, hi = group.get("member_min_age"), group.get("member_max_age")
    if lo is not None or hi is not None:
        candidates = [p] if p is not None else members
        if not any(
            (lo is None or age_on(c.birth_date, day) >= lo)
            and (hi is None or age_on(c.birth_date, day) <= hi)
            for c in candidates
        ):
            return False
    grade_max = group.get("disability_grade_max")
    if grade_max is not None:
        grades = [grade_of(h.level)] + [grade_of(c.disability_grade) for c in h.persons]
        if not any(g is not None and g <= grade_max for g in grades):
            return False
    return True


def eligible(s: Standard, h: HouseholdFacts, p: PersonFacts | None, day: dt.date) -> bool:
    """All of `eligibility` and, when given, any one `any_of` group, on `day`."""
    if not household_in(h, day):
        return False
    alive_rule = s.rule.get("alive", True)
    if p is not None and alive_rule and not person_alive(p, day):
        return False
    members = [c for c in counted_persons(h, s.rule) if not alive_rule or person_alive(c, day)]
    if not _group_holds(s.eligibility, h, p, day, members):
        return False
    groups = s.rule.get("any_of") or []
    return not groups or any(_group_holds(g, h, p, day, members) for g in groups)


# -- reasons ----------------------------------------------------------------------------


def _reasons(
    s: Standard,
    h: HouseholdFacts,
    p: PersonFacts | None,
    day: dt.date,
    rate: Rate,
    prorated: tuple[int, int] | None,
) -> tuple[Reason, ...]:
    out: list[Reason] = [("category", (h.category, h.number))]
    groups = [s.eligibility, *(s.rule.get("any_of") or [])]
    if any(g.get("mother_min_age") is not None for g in groups) and h.woman_birth_date:
        years = next(g["mother_min_age"] for g in groups if g.get("mother_min_age") is not None)
        out.append(("woman_age", (birthday(h.woman_birth_date, years).isoformat(), years)))
    if p is not None:
        out.append(("person_age", (p.relationship, age_on(p.birth_date, day), day.isoformat())))
    if any(g.get("disability_grade_max") is not None for g in groups):
        out.append(("grade", (h.level,)))
    since = rate.start.isoformat() if rate.start else ""
    until = rate.end.isoformat() if rate.end else ""
    out.append(
        (
            "standard",
            (
                s.measure_number,
                s.name,
                str(rate.amount.quantize(CENT)),
                s.unit,
                since,
                until,
                rate.source or s.doc_number,
            ),
        )
    )
    if s.rule.get("reference"):
        out.append(("reference", (s.rule["reference"], str(s.rule.get("top_up", 0)))))
    partial = s.rule.get("partial_period")
    if partial:
        out.append(
            ("partial", (partial, bool((s.rule.get("inferred") or {}).get("partial_period"))))
        )
    if prorated:
        out.append(("prorated", prorated))
    return tuple(out)


# -- funding ----------------------------------------------------------------------------


def split(
    amount: decimal.Decimal, shares: Sequence[tuple[str, decimal.Decimal]]
) -> list[tuple[str, decimal.Decimal]]:
    """`amount` by shares, in cents; the last level takes the rounding remainder."""
    total = sum((sh for _l, sh in shares), ZERO)
    out, given = [], ZERO
    for i, (level, share) in enumerate(shares):
        part = amount - given if i == len(shares) - 1 else (amount * share / total).quantize(CENT)
        given += part
        out.append((level, part))
    return out


def funding(
    s: Standard, amount: decimal.Decimal, base_rate: decimal.Decimal | None
) -> tuple[tuple[str, str, decimal.Decimal], ...]:
    """(part, level, amount): `whole` splits all of it; `increase` splits only what is above
    the first value, and the base stays with level "" (the document's 原定比例, unstated)."""
    if not s.funding_split:
        return (("whole", "", amount),)
    if s.split_applies_to == "increase" and base_rate is not None:
        base = min(amount, base_rate) if amount >= 0 else max(amount, -base_rate)
        increase = amount - base
        parts: list[tuple[str, str, decimal.Decimal]] = [("base", "", base)]
        if increase:
            parts += [("increase", lvl, a) for lvl, a in split(increase, s.funding_split)]
        return tuple(parts)
    return tuple(("whole", lvl, a) for lvl, a in split(amount, s.funding_split))


def first_rate(s: Standard) -> decimal.Decimal | None:
    return s.rates[0].amount if s.rates else None


def scale_funding(
    parts: Iterable[tuple[str, str, decimal.Decimal]],
    factor: decimal.Decimal,
    total: decimal.Decimal,
) -> tuple[tuple[str, str, decimal.Decimal], ...]:
    """Funding parts of a prorated or differenced amount, summing exactly to `total`."""
    items = list(parts)
    out, given = [], ZERO
    for i, (part, lvl, a) in enumerate(items):
        x = total - given if i == len(items) - 1 else (a * factor).quantize(CENT)
        given += x
        out.append((part, lvl, x))
    return tuple(out)


# -- computation ------------------------------------------------------------------------


def compute_month(
    month: dt.date, households: Iterable[HouseholdFacts], standards: Iterable[Standard]
) -> list[Line]:
    """Every register-based line for `month`, in a deterministic order."""
    month = month_start(month)
    stds = sorted((s for s in standards if s.rule.get("basis") == "register"), key=lambda s: s.key)
    by_key = {s.key: s for s in stds}
    lines: list[Line] = []
    for h in sorted(households, key=lambda h: h.id):
        for s in stds:
            per_person = "person" in s.unit
            payee = s.rule.get("payee") or ("person" if per_person else "household")
            targets: list[PersonFacts | None] = (
                sorted(counted_persons(h, s.rule), key=lambda p: p.id) if per_person else [None]
            )
            for p in targets:
                got = _owed(s, h, p, month, by_key)
                if got is None:
                    continue
                amount, rate, prorated = got
                base = first_rate(s)
                lines.append(
                    Line(
                        standard_key=s.key,
                        household_id=h.id,
                        person_id=p.id if p else "",
                        period=month,
                        amount=amount,
                        payee=payee,
                        in_kind=bool(s.rule.get("in_kind")),
                        reasons=_reasons(s, h, p, month, rate, prorated),
                        funding=_line_funding(s, amount, rate, base),
                    )
                )
    return lines


def _line_funding(
    s: Standard, amount: decimal.Decimal, rate: Rate, base: decimal.Decimal | None
) -> tuple[tuple[str, str, decimal.Decimal], ...]:
    full = funding(s, rate.amount, base)
    if amount == rate.amount:
        return full
    return scale_funding(full, amount / rate.amount, amount)


Owed = tuple[decimal.Decimal, Rate, tuple[int, int] | None] | None


def _owed(
    s: Standard,
    h: HouseholdFacts,
    p: PersonFacts | None,
    month: dt.date,
    by_key: dict[str, Standard],
) -> Owed:
    """(amount, rate, prorated days) owed for the month, or None. Yearly: the whole rate in
    the due month; monthly: by the file's partial-period rule (no rule: not computed)."""
    if s.frequency == "yearly":
        if s.rule.get("due_month") != month.month or not eligible(s, h, p, month):
            return None
        rate = rate_on(s, month, by_key)
        return (rate.amount, rate, None) if rate else None
    if s.frequency != "monthly":
        return None
    rule = s.rule.get("partial_period")
    first, last = month, month_end(month)
    if rule == "eligible_on_first_day":
        if not eligible(s, h, p, first):
            return None
        rate = rate_on(s, first, by_key)
        return (rate.amount, rate, None) if rate else None
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    if rule == "eligible_any_day":
        for d in days:
            if eligible(s, h, p, d):
                rate = rate_on(s, d, by_key)
                return (rate.amount, rate, None) if rate else None
        return None
    if rule == "prorate_days":
        total, n, rate_used = ZERO, 0, None
        for d in days:
            if eligible(s, h, p, d):
                r = rate_on(s, d, by_key)
                if r is not None:
                    total += r.amount / len(days)
                    n += 1
                    rate_used = r
        if not n or rate_used is None:
            return None
        return (total.quantize(CENT), rate_used, None if n == len(days) else (n, len(days)))
    return None  # no rule stated: not computed
