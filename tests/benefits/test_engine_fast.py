"""The month's pass prepares each standard once (`engine._Plan`, ages as birth-date
cutoffs); these properties hold it to the rule as written, day by day, so the fast pass
cannot drift from `eligible()`, `rate_on()` and the file's partial-period rules."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.benefits import engine
from portal.benefits.engine import PersonFacts, Rate
from tests.benefits.helpers import D, couple, standard

KF = standard("kaifeng", "计划生育家庭特别扶助金（独生子女死亡）")
ZD = standard("zhangdian", "幸福安康保险（残疾特殊家庭人员）")
dates = st.dates(min_value=D(1930, 1, 1), max_value=D(2030, 12, 31))
RULES = ("eligible_on_first_day", "eligible_any_day", "prorate_days")


@settings(max_examples=400, deadline=None)
@given(born=dates, on=dates, years=st.integers(0, 99))
def test_age_cutoff_is_the_age_rule(born: dt.date, on: dt.date, years: int) -> None:
    """age_on(b, day) >= years exactly when b <= age_cutoff(day, years), 29 February too."""
    assert (engine.age_on(born, on) >= years) == (born <= engine.age_cutoff(on, years))


def test_age_cutoff_on_a_leap_day() -> None:
    assert engine.age_cutoff(D(2024, 2, 29), 49) == D(1975, 2, 28)
    assert engine.age_on(D(1975, 3, 1), D(2024, 2, 29)) == 48


def _by_days(month: dt.date, h, p, s) -> tuple[decimal.Decimal, Rate, tuple | None] | None:  # type: ignore[no-untyped-def]
    """The partial-period rules as docs/benefits.md states them, from `eligible` and
    `rate_on` asked for each day (the slow way the month's pass must agree with)."""
    rule = s.rule.get("partial_period")
    last = engine.month_end(month)
    days = [month + dt.timedelta(days=i) for i in range((last - month).days + 1)]
    if s.frequency == "yearly":
        if s.rule.get("due_month") != month.month or not engine.eligible(s, h, p, month):
            return None
        rate = engine.rate_on(s, month)
        return (rate.amount, rate, None) if rate else None
    if rule == "eligible_on_first_day":
        rate = engine.rate_on(s, month)
        return (rate.amount, rate, None) if rate and engine.eligible(s, h, p, month) else None
    eligible_days = [d for d in days if engine.eligible(s, h, p, d)]
    if rule == "eligible_any_day":
        if not eligible_days:
            return None
        rate = engine.rate_on(s, eligible_days[0])
        return (rate.amount, rate, None) if rate else None
    paid = [(d, engine.rate_on(s, d)) for d in eligible_days]
    paid = [(d, r) for d, r in paid if r is not None]
    if not paid:
        return None
    total = sum((r.amount / len(days) for _d, r in paid), engine.ZERO).quantize(engine.CENT)
    return total, paid[-1][1], None if len(paid) == len(days) else (len(paid), len(days))


@st.composite
def households(draw):  # type: ignore[no-untyped-def]
    woman = draw(st.dates(min_value=D(1940, 1, 1), max_value=D(1985, 12, 31)))
    child = PersonFacts(
        "h-c",
        "child",
        draw(st.dates(min_value=D(1950, 1, 1), max_value=D(2000, 12, 31))),
        "male",
        disability_grade=draw(st.sampled_from(["", "一级", "二级", "三级"])),
    )
    return couple(
        "h",
        draw(st.sampled_from(["bereaved", "disabled_child"])),
        woman,
        draw(st.dates(min_value=D(1935, 1, 1), max_value=D(1985, 12, 31))),
        registered_on=draw(st.dates(min_value=D(2015, 1, 1), max_value=D(2024, 12, 31))),
        level=draw(st.sampled_from(["", "一级", "三级"])),
        child=child,
        woman_death=draw(st.none() | st.dates(min_value=D(2022, 1, 1), max_value=D(2025, 12, 1))),
        exited_on=draw(st.none() | st.dates(min_value=D(2022, 1, 1), max_value=D(2025, 12, 1))),
    )


@settings(max_examples=150, deadline=None)
@given(
    h=households(),
    month=st.sampled_from(engine.months(D(2022, 1, 1), D(2025, 12, 1))),
    rule=st.sampled_from(RULES),
    base=st.sampled_from([KF, ZD]),
    rise=st.none() | st.dates(min_value=D(2022, 1, 1), max_value=D(2025, 12, 31)),
)
def test_the_months_pass_agrees_with_the_rule_day_by_day(h, month, rule, base, rise) -> None:  # type: ignore[no-untyped-def]
    """Same persons, amounts, rates and prorated days as asking the rule for each day —
    over ages (woman's, member's min and max), deaths, exits, registration, grades, OR
    groups and a rate change inside the month."""
    rates = tuple(base.rates) + ((Rate(decimal.Decimal("1500.00"), rise),) if rise else ())
    s = dataclasses.replace(
        base,
        frequency="monthly",
        rates=tuple(sorted(rates, key=lambda r: r.start or dt.date.min)),
        rule={
            **base.rule,
            "partial_period": rule,
            "persons": "members",
            "any_of": [*(base.rule.get("any_of") or []), {"disability_grade_max": 2}],
        },
    )
    lines = {x.person_id: x for x in engine.compute_month(month, [h], [s])}
    for p in h.persons:
        want = _by_days(month, h, p, s)
        got = lines.get(p.id)
        if want is None:
            assert got is None, p.id
            continue
        assert got is not None, p.id
        amount, rate, prorated = want
        assert got.amount == amount
        assert dict(got.reasons)["standard"][2] == str(rate.amount.quantize(engine.CENT))
        assert dict(got.reasons).get("prorated") == prorated
        assert sum(a for _p, _l, a in got.funding) == amount


def test_the_register_stores_the_values_the_engine_reads() -> None:
    """`facts.register_facts` reads category, status, relationship and gender as stored
    text (no enum object per value); SQLAlchemy stores an enum's name, so every name must
    be its value for the engine's words ("bereaved", "principal", …) to match."""
    from portal.register.models import Household, Person

    for column in (Household.category, Household.status, Person.relationship_, Person.gender):
        enum = column.property.columns[0].type.enum_class
        assert [m.name for m in enum] == [m.value for m in enum], column


PREMIUM = standard("kaifeng", "住院护理补贴保险（保费）")
EVERY_CATEGORY = {"family_types": ["bereaved", "disabled_child", "surgery_complication"]}


@settings(max_examples=150, deadline=None)
@given(
    h=households(),
    month=st.sampled_from(engine.months(D(2022, 1, 1), D(2025, 12, 1))),
    base=st.sampled_from([KF, PREMIUM]),
    alive=st.booleans(),
    grade=st.booleans(),
)
def test_the_parents_fast_pass_gives_the_general_passs_lines(h, month, base, alive, grade) -> None:  # type: ignore[no-untyped-def]
    """A one-day rule for the parents that asks nothing of a person but "alive?" takes the
    fast pass; an `any_of` group every household meets sends the same standard through the
    general one. Both must give the same lines (amounts, reasons, funding, order)."""
    eligibility = {**base.eligibility, **({"disability_grade_max": 3} if grade else {})}
    fast = dataclasses.replace(base, eligibility=eligibility, rule={**base.rule, "alive": alive})
    general = dataclasses.replace(fast, rule={**fast.rule, "any_of": [EVERY_CATEGORY]})
    twin = dataclasses.replace(h, id="h2", number="N2")
    assert engine.compute_month(month, [twin, h], [fast]) == engine.compute_month(
        month, [h, twin], [general]
    )
