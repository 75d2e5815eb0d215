"""The engine on the seed districts' own standards (tenants/*.yaml), without a database."""

from __future__ import annotations

import dataclasses
import decimal

from portal.benefits import digest, engine
from portal.benefits.settlement import Paid, settle
from tests.benefits.helpers import D, couple, standard, standards

KF = "计划生育家庭特别扶助金（独生子女死亡）"


def _amounts(lines, person_id):  # type: ignore[no-untyped-def]
    return [line.amount for line in lines if line.person_id == person_id]


def test_kaifeng_mother_49_in_2022_owed_1180_until_july_2023_then_1430() -> None:
    h = couple("1", "bereaved", D(1973, 5, 14), D(1971, 2, 3))
    s = standard("kaifeng", KF)
    by_month = {
        m: engine.compute_month(m, [h], [s]) for m in engine.months(D(2023, 1, 1), D(2023, 12, 1))
    }
    for m, lines in by_month.items():
        want = 1180 if m < D(2023, 8, 1) else 1430
        # both spouses, once the woman is 49
        assert _amounts(lines, "1-w") == [want] and _amounts(lines, "1-m") == [want], m
    reasons = dict(by_month[D(2023, 8, 1)][0].reasons)
    assert reasons["woman_age"] == ("2022-05-14", 49)
    assert reasons["standard"][2] == "1430.00" and reasons["standard"][4] == "2023-08-01"
    july = dict(by_month[D(2023, 7, 1)][0].reasons)["standard"]
    assert july[4] == "" and july[5] == "2023-08-01"  # start unknown, in force before the rise


def test_kaifeng_woman_turning_49_mid_month_counts_from_the_next_month() -> None:
    """The inferred partial-period rule of the file: eligible on the month's first day."""
    h = couple("2", "bereaved", D(1975, 3, 15))
    s = standard("kaifeng", KF)
    assert engine.compute_month(D(2024, 3, 1), [h], [s]) == []
    assert len(engine.compute_month(D(2024, 4, 1), [h], [s])) == 2


def test_kaifeng_funding_splits_the_increase_1_1_and_keeps_the_base_apart() -> None:
    h = couple("3", "bereaved", D(1960, 1, 1))
    s = standard("kaifeng", KF)
    aug = engine.compute_month(D(2023, 8, 1), [h], [s])[0]
    assert aug.funding == (
        ("base", "", decimal.Decimal("1180")),
        ("increase", "市", decimal.Decimal("125.00")),
        ("increase", "县（区）", decimal.Decimal("125")),
    )
    jul = engine.compute_month(D(2023, 7, 1), [h], [s])[0]
    assert jul.funding == (("base", "", decimal.Decimal("1180")),)


def _owed(first, last, household, std):  # type: ignore[no-untyped-def]
    """Every month's lines from `first` to `last` (what the cycles settle against)."""
    return [
        line
        for m in engine.months(first, last)
        for line in engine.compute_month(m, [household], [std])
    ]


def test_rise_loaded_after_closed_cycles_gives_arrears_of_250_per_person_month() -> None:
    h = couple("4", "bereaved", D(1960, 1, 1))
    rise = standard("kaifeng", KF)
    # before the rise was loaded: only 1180, in force from an early date
    old = dataclasses.replace(rise, rates=(engine.Rate(decimal.Decimal(1180), D(2015, 1, 1)),))
    covered = {}
    for m in (D(2023, 8, 1), D(2023, 9, 1)):
        for line in engine.compute_month(m, [h], [old]):
            covered[line.key] = Paid(line.amount, line.funding)
    owed = _owed(D(2023, 8, 1), D(2023, 10, 1), h, rise)
    out = settle(owed, covered, D(2023, 10, 1))
    arrears = [x for x in out if x.kind == "arrears"]
    assert sorted((x.line.person_id, x.line.period, x.amount) for x in arrears) == [
        ("4-m", D(2023, 8, 1), 250),
        ("4-m", D(2023, 9, 1), 250),
        ("4-w", D(2023, 8, 1), 250),
        ("4-w", D(2023, 9, 1), 250),
    ]
    assert all(x.cause == "rate" for x in arrears)
    # the arrears are all increase, split 1:1; nothing of the base
    assert {x.funding for x in arrears} == {
        (
            ("increase", "市", decimal.Decimal("125.00")),
            ("increase", "县（区）", decimal.Decimal("125")),
        )
    }
    assert [x.amount for x in out if x.kind == "regular"] == [1430, 1430]


def test_death_entered_late_is_recovered() -> None:
    s = standard("kaifeng", KF)
    alive = couple("5", "bereaved", D(1960, 1, 1))
    covered = {
        line.key: Paid(line.amount, line.funding)
        for m in (D(2024, 1, 1), D(2024, 2, 1))
        for line in engine.compute_month(m, [alive], [s])
    }
    died = couple("5", "bereaved", D(1960, 1, 1), woman_death=D(2024, 1, 20))
    owed = _owed(D(2024, 1, 1), D(2024, 3, 1), died, s)
    out = settle(owed, covered, D(2024, 3, 1))
    rec = [x for x in out if x.kind == "recovery"]
    assert [(x.line.person_id, x.line.period, x.amount) for x in rec] == [
        ("5-w", D(2024, 2, 1), -1430)
    ]


def test_zhangdian_insurance_bereaved_member_covered_at_46_not_44() -> None:
    s = standard("zhangdian", "幸福安康保险（失独特殊家庭人员）")
    h = couple("6", "bereaved", D(1978, 6, 1), D(1980, 6, 1))  # 45/46 and 43/44 in Jan 2025
    lines = engine.compute_month(D(2025, 1, 1), [h], [s])
    assert [line.person_id for line in lines] == ["6-w"]  # 46, not the husband at 44
    assert lines[0].amount == 300 and lines[0].payee == "institution"
    assert engine.compute_month(D(2025, 2, 1), [h], [s]) == []  # yearly, due in January


def test_zhangdian_insurance_disabled_child_member_covered_at_69_not_70() -> None:
    s = standard("zhangdian", "幸福安康保险（残疾特殊家庭人员）")
    # on 2025-01-01 (the due month's first day) she is 69, he is 70
    h = couple("7", "disabled_child", D(1955, 6, 1), D(1954, 6, 1), level="三级")
    lines = engine.compute_month(D(2025, 1, 1), [h], [s])
    assert [line.person_id for line in lines] == ["7-w"]
    assert dict(lines[0].reasons)["person_age"] == ("principal", 69, "2025-01-01")
    # grade 4 is not 三级以上: nobody
    h4 = couple("9", "disabled_child", D(1955, 6, 1), D(1954, 6, 1), level="四级")
    assert engine.compute_month(D(2025, 1, 1), [h4], [s]) == []


def test_the_engine_is_deterministic_and_hashes_inputs_and_lines() -> None:
    hs = [couple(str(i), "bereaved", D(1960 + i, 1 + i % 12, 1)) for i in range(8)]
    stds = list(standards("kaifeng"))
    a = engine.compute_month(D(2024, 1, 1), hs, stds)
    b = engine.compute_month(D(2024, 1, 1), list(reversed(hs)), list(reversed(stds)))
    assert a == b and a
    assert digest.digest(hs, stds, a) == digest.digest(list(reversed(hs)), stds, b)
    assert digest.digest(hs, stds, a) != digest.digest(hs, stds, a[1:])
