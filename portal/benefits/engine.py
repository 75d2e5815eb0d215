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
import contextlib
import datetime as dt
import decimal
import gc
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, NamedTuple

CENT = decimal.Decimal("0.01")
ZERO = decimal.Decimal("0")
GRADES = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
PARENTS = ("principal", "spouse")

Reason = tuple[str, tuple[Any, ...]]
Funding = tuple[tuple[str, str, decimal.Decimal], ...]  # (part, level, amount)


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


class Line(NamedTuple):
    """One payee's entitlement under one standard for one month (before payment). A named
    tuple: a month's pass makes one per eligible person, and a tuple is the cheapest
    immutable value to make (equality and hashing as a tuple; canonical form in digest)."""

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


def age_cutoff(day: dt.date, years: int) -> dt.date:
    """The latest birth date of anyone aged `years` or more on `day`: `age_on(b, day) >=
    years` exactly when `b <= age_cutoff(day, years)` (age never grows with a later birth).
    A 29 February in a year without one gives the 28th. One date comparison per person is
    what makes a month's pass cheap (tests/benefits/test_engine_fast.py checks the identity)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return dt.date(day.year - years, 2, 28)


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
    return _counted(h, rule.get("persons") or "parents")


def _counted(h: HouseholdFacts, which: str) -> list[PersonFacts]:
    if which == "members":
        return list(h.persons)
    if which == "woman":
        return [p for p in h.persons if p.relationship in PARENTS and p.gender == "female"]
    return [p for p in h.persons if p.relationship in PARENTS]


class _Group:
    """One AND-group of `eligibility` / `any_of`, compiled for one day: ages become
    birth-date cutoffs (`age_cutoff`), so asking it is a few comparisons."""

    __slots__ = ("types", "mother", "mother_by", "members", "member_by", "member_after", "grade")

    def __init__(self, group: dict, day: dt.date) -> None:
        types = group.get("family_types")
        self.types = frozenset(types) if types else None
        mother = group.get("mother_min_age")
        self.mother = mother is not None
        self.mother_by = age_cutoff(day, mother) if mother is not None else None
        lo, hi = group.get("member_min_age"), group.get("member_max_age")
        self.members = lo is not None or hi is not None
        self.member_by = age_cutoff(day, lo) if lo is not None else None  # age >= lo
        self.member_after = age_cutoff(day, hi + 1) if hi is not None else None  # age <= hi
        self.grade = group.get("disability_grade_max")

    def holds_household(self, h: HouseholdFacts) -> bool:
        """The conditions on the household: category, the woman's age, a disability grade."""
        if self.types is not None and h.category not in self.types:
            return False
        if self.mother and (h.woman_birth_date is None or h.woman_birth_date > self.mother_by):
            return False
        if self.grade is not None:
            grades = [grade_of(h.level)] + [grade_of(c.disability_grade) for c in h.persons]
            if not any(g is not None and g <= self.grade for g in grades):
                return False
        return True

    def holds_person(self, p: PersonFacts | None, members: list[PersonFacts] | None) -> bool:
        """The member's age (the person's own; for a household line, any counted member)."""
        if not self.members:
            return True
        by, after = self.member_by, self.member_after
        return any(
            (by is None or c.birth_date <= by) and (after is None or c.birth_date > after)
            for c in ([p] if p is not None else members or ())
        )

    def holds(
        self, h: HouseholdFacts, p: PersonFacts | None, members: list[PersonFacts] | None
    ) -> bool:
        return self.holds_household(h) and self.holds_person(p, members)


class Eligibility:
    """Who is eligible under a standard on one day: all of `eligibility` and, when given,
    any one `any_of` group, on the register, alive when the rule says so. Compiled once per
    standard and day, then asked per household and person — the one statement of the rule,
    used by `eligible()` (claims) and by the month's pass alike."""

    __slots__ = ("day", "alive", "rule", "all_of", "any_of", "needs_members")

    def __init__(self, s: Standard, day: dt.date) -> None:
        self.day = day
        self.alive = s.rule.get("alive", True)
        self.rule = s.rule
        self.all_of = _Group(s.eligibility, day)
        self.any_of = tuple(_Group(g, day) for g in s.rule.get("any_of") or [])
        self.needs_members = self.all_of.members or any(g.members for g in self.any_of)

    def __call__(self, h: HouseholdFacts, p: PersonFacts | None) -> bool:
        return self.household(h) and self.person(h, p)

    def household(self, h: HouseholdFacts) -> bool:
        """What does not depend on the person: on the register that day (`household_in`,
        inline: this runs for every household every month) and `eligibility`'s household
        conditions. False: nobody in the household is eligible."""
        day = self.day
        if day < h.registered_on or (h.exited and (h.exited_on is None or day >= h.exited_on)):
            return False
        return self.all_of.holds_household(h)

    def person(self, h: HouseholdFacts, p: PersonFacts | None) -> bool:
        """The rest, for a household `household` let through: alive (`person_alive`,
        inline), `eligibility`'s member ages, one `any_of` group."""
        day = self.day
        if (
            p is not None
            and self.alive
            and not (day < p.death_date if p.death_date is not None else p.alive)
        ):
            return False
        members = None
        if p is None and self.needs_members:
            members = [
                c for c in counted_persons(h, self.rule) if not self.alive or person_alive(c, day)
            ]
        if not self.all_of.holds_person(p, members):
            return False
        return not self.any_of or any(g.holds(h, p, members) for g in self.any_of)


def eligible(s: Standard, h: HouseholdFacts, p: PersonFacts | None, day: dt.date) -> bool:
    """All of `eligibility` and, when given, any one `any_of` group, on `day`."""
    return Eligibility(s, day)(h, p)


# -- reasons ----------------------------------------------------------------------------


def _standard_reason(s: Standard, rate: Rate) -> Reason:
    since = rate.start.isoformat() if rate.start else ""
    until = rate.end.isoformat() if rate.end else ""
    return (
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


def _rule_reasons(s: Standard) -> tuple[Reason, ...]:
    """The reasons every line of a standard shares after its rate (reference, partial rule)."""
    out: list[Reason] = []
    if s.rule.get("reference"):
        out.append(("reference", (s.rule["reference"], str(s.rule.get("top_up", 0)))))
    partial = s.rule.get("partial_period")
    if partial:
        out.append(
            ("partial", (partial, bool((s.rule.get("inferred") or {}).get("partial_period"))))
        )
    return tuple(out)


def _mother_years(s: Standard) -> int | None:
    groups = [s.eligibility, *(s.rule.get("any_of") or [])]
    return next((g["mother_min_age"] for g in groups if g.get("mother_min_age") is not None), None)


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


Owed = tuple[decimal.Decimal, "Rate", tuple[int, int] | None] | None

# -- computation ------------------------------------------------------------------------

#: Partial-period rules that look at every day of the month (the rest look at one day).
DAILY_RULES = ("eligible_any_day", "prorate_days")


class _Plan:
    """One standard for one month, prepared once: which days count and their eligibility
    and rate, the funding of a full amount per rate, the reasons every line shares. The
    month's pass then asks it per household and person — no per-line look-ups of the
    rule, the rate or the funding split."""

    def __init__(
        self,
        s: Standard,
        month: dt.date,
        days: list[tuple[Eligibility, Rate | None]],
        rule: str,
    ) -> None:
        self.s, self.month, self.days, self.rule = s, month, days, rule
        self.per_person = "person" in s.unit
        self.payee = s.rule.get("payee") or ("person" if self.per_person else "household")
        self.in_kind = bool(s.rule.get("in_kind"))
        self.base = first_rate(s)
        self.month_iso = month.isoformat()
        self.mother_years = _mother_years(s)
        groups = [s.eligibility, *(s.rule.get("any_of") or [])]
        self.grade = any(g.get("disability_grade_max") is not None for g in groups)
        self.tail = _rule_reasons(s)
        self.which = s.rule.get("persons") or "parents"
        self._by_rate: dict[int, tuple[Reason, Funding]] = {}  # by id: the plan's own rates
        self._ages: dict[str, dict[int, Reason]] = {}  # relationship → age → its reason
        check = days[0][0]
        #: One-day rules whose only question about a person is "alive?" (no member ages, no
        #: `any_of`): True/False is whether to ask it; None: ask `Eligibility.person`.
        self.only_alive: bool | None = (
            None if check.needs_members or check.any_of else bool(check.alive)
        )
        self.holds_household = check.all_of.holds_household
        rate = days[0][1]
        #: The fast pass (`add_parents`) applies: one day, its rate, parents per person.
        self.simple = (
            rule == "one_day"
            and rate is not None
            and self.per_person
            and self.which == "parents"
            and self.only_alive is not None
        )
        if self.simple and rate is not None:
            standard_reason, self.full = self._rate_parts(rate)
            self.amount = rate.amount
            self.after = (standard_reason, *self.tail)

    @classmethod
    def of(cls, s: Standard, month: dt.date, by_key: dict[str, Standard]) -> _Plan | None:
        """None when the standard owes nothing this month whoever asks: a yearly one outside
        its due month, no partial-period rule stated, no rate in force on the one day."""
        if s.frequency == "yearly":
            if s.rule.get("due_month") != month.month:
                return None
            rule = "one_day"
        elif s.frequency != "monthly":
            return None
        else:
            rule = s.rule.get("partial_period") or ""
            if rule == "eligible_on_first_day":
                rule = "one_day"
            elif rule not in DAILY_RULES:
                return None  # no rule stated: not computed
        if rule == "one_day":
            rate = rate_on(s, month, by_key)
            return cls(s, month, [(Eligibility(s, month), rate)], rule) if rate else None
        last = month_end(month)
        days = [month + dt.timedelta(days=i) for i in range((last - month).days + 1)]
        return cls(s, month, [(Eligibility(s, d), rate_on(s, d, by_key)) for d in days], rule)

    def owed(self, h: HouseholdFacts, p: PersonFacts | None) -> Owed:
        """(amount, rate, prorated days) owed for the month, or None. One day: the whole
        rate if eligible that day; any day: the rate of the first eligible day; prorate:
        the sum of each eligible day's rate ÷ days in the month."""
        days = self.days
        if self.rule == "one_day":
            check, rate = days[0]
            return (rate.amount, rate, None) if rate is not None and check(h, p) else None
        if self.rule == "eligible_any_day":
            for check, rate in days:
                if check(h, p):
                    return (rate.amount, rate, None) if rate else None
            return None
        total, n, used = ZERO, 0, None
        for check, rate in days:
            if rate is not None and check(h, p):
                total += rate.amount / len(days)
                n += 1
                used = rate
        if not n or used is None:
            return None
        return (total.quantize(CENT), used, None if n == len(days) else (n, len(days)))

    def _rate_parts(self, rate: Rate) -> tuple[Reason, Funding]:
        got = self._by_rate.get(id(rate))
        if got is None:
            got = self._by_rate[id(rate)] = (
                _standard_reason(self.s, rate),
                funding(self.s, rate.amount, self.base),
            )
        return got

    def _head(self, h: HouseholdFacts) -> tuple[Reason, ...]:
        """The reasons every line of the household shares: on the register, the woman's age."""
        if self.mother_years is not None and h.woman_birth_date:
            turned = birthday(h.woman_birth_date, self.mother_years).isoformat()
            return (
                ("category", (h.category, h.number)),
                ("woman_age", (turned, self.mother_years)),
            )
        return (("category", (h.category, h.number)),)

    def add_parents(self, h: HouseholdFacts, out: list[Line]) -> None:
        """`add` for the commonest shape, the largest district's hot loop: a one-day rule,
        per person, the parents, nothing asked of a person but (when the rule says so)
        alive. Same lines as `add` (tests/benefits/test_engine_fast.py compares the two)."""
        day = self.month
        if (
            day < h.registered_on
            or (h.exited and (h.exited_on is None or day >= h.exited_on))
            or not self.holds_household(h)
        ):
            return  # `Eligibility.household`, inline: nobody in the household
        persons = [p for p in h.persons if p.relationship in PARENTS]
        n = len(persons)
        if not n:
            return
        if n == 2:  # a couple: one comparison, not a sort
            if persons[0].id > persons[1].id:
                persons.reverse()
        elif n > 2:
            persons.sort(key=_BY_ID)
        alive, ages, year, mm = self.only_alive, self._ages, day.year, day.month
        head = after = None
        for p in persons:
            if alive and not (day < p.death_date if p.death_date is not None else p.alive):
                continue
            if head is None:
                head = self._head(h)
                after = (("grade", (h.level,)), *self.after) if self.grade else self.after
            born = p.birth_date  # `age_on(born, day)`, inline: the month starts on the 1st
            years = year - born.year - (born.month > mm or (born.month == mm and born.day > 1))
            by_age = ages.get(p.relationship)
            if by_age is None:
                by_age = ages[p.relationship] = {}
            age = by_age.get(years)
            if age is None:  # one reason per relationship and age, shared by its lines
                age = by_age[years] = ("person_age", (p.relationship, years, self.month_iso))
            out.append(
                _NEW(Line, (self.s.key, h.id, p.id, day, self.amount, self.payee, self.in_kind,
                            (*head, age, *after), self.full))
            )  # fmt: skip

    def add(self, h: HouseholdFacts, out: list[Line]) -> None:
        """Append the household's lines for this standard (persons in id order). Reasons in
        order: household, woman's age, person's age, grade, standard, rule, prorated days."""
        s = self.s
        one_day = self.days[0] if self.rule == "one_day" else None
        if one_day is not None:
            check, rate = one_day
            if rate is None or not check.household(h):
                return  # nobody in the household: asked once, not per person
            standard_reason, full = self._rate_parts(rate)
            only_alive = self.only_alive
        targets: list[PersonFacts | None] = [None]
        if self.per_person:
            targets = (  # type: ignore[assignment]
                [p for p in h.persons if p.relationship in PARENTS]  # `_counted`, inline
                if self.which == "parents"
                else _counted(h, self.which)
            )
            if len(targets) > 1:
                targets.sort(key=_BY_ID)
        head: tuple[Reason, ...] | None = None
        month, tail, month_iso = self.month, self.tail, self.month_iso
        day, year, mm, ages = month, month.year, month.month, self._ages
        key, payee, in_kind = s.key, self.payee, self.in_kind
        grade: tuple[Reason, ...] = (("grade", (h.level,)),) if self.grade else ()
        for p in targets:
            extra: tuple[Reason, ...] = ()
            if one_day is not None:  # the common case, without the call to `owed`
                if only_alive is None:
                    if not check.person(h, p):
                        continue
                elif (
                    only_alive
                    and p is not None
                    and not (day < p.death_date if p.death_date is not None else p.alive)
                ):
                    continue  # `person_alive`, inline: the rule asks nothing else of a person
                amount, parts = rate.amount, full
            else:
                got = self.owed(h, p)
                if got is None:
                    continue
                amount, rate, prorated = got
                standard_reason, parts = self._rate_parts(rate)
                if amount != rate.amount:
                    parts = scale_funding(parts, amount / rate.amount, amount)
                if prorated:
                    extra = (("prorated", prorated),)
            if head is None:
                head = self._head(h)
            if p is not None:
                born = p.birth_date  # `age_on(born, month)`, inline: the month starts on the 1st
                years = year - born.year - (born.month > mm or (born.month == mm and born.day > 1))
                by_age = ages.get(p.relationship)
                if by_age is None:
                    by_age = ages[p.relationship] = {}
                age = by_age.get(years)
                if age is None:  # one reason per relationship and age, shared by its lines
                    age = by_age[years] = ("person_age", (p.relationship, years, month_iso))
                reasons = (*head, age, *grade, standard_reason, *tail, *extra)
            else:
                reasons = (*head, *grade, standard_reason, *tail, *extra)
            # `Line(...)` without the named tuple's Python-level __new__
            out.append(
                _NEW(Line, (key, h.id, p.id if p is not None else "", month, amount, payee,
                            in_kind, reasons, parts))
            )  # fmt: skip


_BY_ID = attrgetter("id")
_NEW = tuple.__new__


def compute_month(
    month: dt.date, households: Iterable[HouseholdFacts], standards: Iterable[Standard]
) -> list[Line]:
    """Every register-based line for `month`, in a deterministic order (households by id,
    standards by key, persons by id). Each standard is prepared once for the month
    (`_Plan`), then one pass over the households asks each plan."""
    month = month_start(month)
    stds = sorted((s for s in standards if s.rule.get("basis") == "register"), key=lambda s: s.key)
    by_key = {s.key: s for s in stds}
    plans = [plan for s in stds if (plan := _Plan.of(s, month, by_key)) is not None]
    lines: list[Line] = []
    if not plans:
        return lines
    adds = [plan.add_parents if plan.simple else plan.add for plan in plans]
    with collector_paused():
        for h in sorted(households, key=_BY_ID):
            for add in adds:
                add(h, lines)
    return lines


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for a pass that only makes acyclic tuples
    (one `Line` and its reasons per eligible person: nothing for it to free). Left on, the
    allocations trigger collections over the whole process's heap — in a web or CLI
    process, a full one costs as much as the largest district's pass (docs/performance.md,
    fifth session). Reference counting still frees everything; the collector is turned
    back on only if it was on (a caller that paused it keeps it paused)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
