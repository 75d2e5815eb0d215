"""Property-based tests (Hypothesis) over dates, ages, deaths, exits and rate changes.

A simulated programme runs month by month: each month's cycle computes what is owed for
every month so far with what is known *then* (a rise is loaded some months after it takes
effect; a death is entered late), settles it against what earlier cycles covered, and the
bank fails some payments. Whatever happens: covered + this cycle = owed for every key after
every cycle (arrears + paid = owed), no month is paid as a regular line twice, and no key
ends up paid more than owed once the cycle is settled.
"""

from __future__ import annotations

import dataclasses
import decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.benefits import digest, engine, settlement
from portal.benefits.engine import Rate
from portal.benefits.settlement import Paid, settle
from tests.benefits.helpers import D, couple, standard

BASE = standard("kaifeng", "计划生育家庭特别扶助金（独生子女死亡）")
FIRST, LAST = D(2023, 1, 1), D(2024, 12, 1)
MONTHS = engine.months(FIRST, LAST)
days = st.dates(min_value=D(2022, 6, 1), max_value=D(2025, 3, 1))


@st.composite
def scenario(draw):  # type: ignore[no-untyped-def]
    woman_born = draw(st.dates(min_value=D(1970, 1, 1), max_value=D(1977, 12, 31)))
    death = draw(st.none() | days)
    exit_on = draw(st.none() | days)
    registered = draw(st.dates(min_value=D(2015, 1, 1), max_value=D(2024, 6, 1)))
    h = couple(
        "h", "bereaved", woman_born, woman_death=death, registered_on=registered, exited_on=exit_on
    )
    # rate changes: (effective month, amount, month it becomes known)
    n = draw(st.integers(0, 3))
    changes = []
    for _ in range(n):
        eff = draw(st.sampled_from(MONTHS))
        known = draw(st.sampled_from([m for m in MONTHS if m >= eff]))
        amount = draw(st.integers(100, 3000))
        changes.append((eff, decimal.Decimal(amount), known))
    rule = draw(st.sampled_from(["eligible_on_first_day", "eligible_any_day", "prorate_days"]))
    # when the death / exit become known to the register (entered late)
    death_known = draw(st.sampled_from(MONTHS))
    failures = draw(st.sets(st.sampled_from(MONTHS), max_size=4))
    return h, changes, rule, death_known, failures


def _standard(changes, rule, as_of):  # type: ignore[no-untyped-def]
    rates = {D(2015, 1, 1): decimal.Decimal(1180)}
    for eff, amount, known in changes:
        if known <= as_of:
            rates[eff] = amount
    values = tuple(Rate(a, d) for d, a in sorted(rates.items()))
    return dataclasses.replace(BASE, rates=values, rule={**BASE.rule, "partial_period": rule})


def _household(h, death_known, as_of):  # type: ignore[no-untyped-def]
    if death_known <= as_of:
        return h
    alive = tuple(dataclasses.replace(p, alive=True, death_date=None) for p in h.persons)
    return dataclasses.replace(h, persons=alive, exited=False, exited_on=None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_arrears_plus_paid_equals_owed_and_no_month_is_paid_twice(case) -> None:  # type: ignore[no-untyped-def]
    h, changes, rule, death_known, failures = case
    covered: dict[tuple, Paid] = {}
    regular_seen: set[tuple] = set()
    for month in MONTHS:
        s = _standard(changes, rule, month)
        hh = _household(h, death_known, month)
        owed = [
            line for m in engine.months(FIRST, month) for line in engine.compute_month(m, [hh], [s])
        ]
        out = settle(owed, covered, month)
        owed_by_key = {line.key: line.amount for line in owed}
        after = {k: p.amount for k, p in covered.items()}
        for x in out:
            if x.kind == "regular":
                assert x.line.key not in regular_seen  # a month is a regular line once
                regular_seen.add(x.line.key)
                assert x.line.period == month
            after[x.line.key] = after.get(x.line.key, 0) + x.amount
            # funding parts always add up to the amount paid
            assert sum(a for _p, _l, a in x.funding) == x.amount
        for key in set(after) | set(owed_by_key):  # arrears + paid = owed, every key
            assert after.get(key, 0) == owed_by_key.get(key, 0)
        # the bank: this month's payments succeed unless the month is a failure month
        for x in out:
            prev = covered.get(x.line.key, Paid(decimal.Decimal(0)))
            if month in failures and x.amount > 0:
                covered[x.line.key] = dataclasses.replace(prev, failed_reason="账户已销户")
                continue
            funding = settlement.minus(prev.funding, settlement.minus((), x.funding))
            covered[x.line.key] = Paid(prev.amount + x.amount, funding)
        for key in set(covered) | set(owed_by_key):  # never paid twice, never more than owed
            got, want = covered[key].amount if key in covered else 0, owed_by_key.get(key, 0)
            assert got <= want if month in failures else got == want


@settings(max_examples=80, deadline=None)
@given(
    woman_born=st.dates(min_value=D(1960, 1, 1), max_value=D(1980, 12, 31)),
    month=st.sampled_from(MONTHS),
    rule=st.sampled_from(["eligible_on_first_day", "eligible_any_day", "prorate_days"]),
)
def test_eligibility_follows_the_womans_49th_birthday(woman_born, month, rule) -> None:  # type: ignore[no-untyped-def]
    s = _standard([], rule, month)
    h = couple("h", "bereaved", woman_born)
    lines = engine.compute_month(month, [h], [s])
    turns = engine.birthday(woman_born, 49)
    if turns <= month:
        assert [x.amount for x in lines] == [1180, 1180]
    elif turns > engine.month_end(month) or rule == "eligible_on_first_day":
        assert lines == []
    elif rule == "eligible_any_day":
        assert [x.amount for x in lines] == [1180, 1180]
    else:  # prorated by the days from the birthday
        days = (engine.month_end(month) - turns).days + 1
        total = (engine.month_end(month) - month).days + 1
        want = (decimal.Decimal(1180) / total * days).quantize(engine.CENT)
        assert [x.amount for x in lines] == [want, want]
        assert dict(lines[0].reasons)["prorated"] == (days, total)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.dates(min_value=D(1950, 1, 1), max_value=D(1990, 1, 1)), min_size=1, max_size=6))
def test_same_inputs_same_lines_and_hash(births) -> None:  # type: ignore[no-untyped-def]
    hs = [couple(str(i), "bereaved", b) for i, b in enumerate(births)]
    a = engine.compute_month(D(2024, 5, 1), hs, [BASE])
    b = engine.compute_month(D(2024, 5, 1), hs[::-1], [BASE])
    assert a == b
    assert digest.digest(hs, [BASE], a) == digest.digest(hs[::-1], [BASE], b)
