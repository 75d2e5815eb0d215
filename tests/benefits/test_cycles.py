"""Payment cycles on a database: the rise loaded after closed cycles, the bank round trip,
failed lines carried over, recovery, a closed cycle never changes, claims with caps."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
import sqlalchemy as sa

from tests.benefits.dbhelpers import (
    add_couple,
    in_new_district,
    kaifeng_data,
    run_cycle,
    with_accounts,
)

D = dt.date
KF = "1/计划生育家庭特别扶助金（独生子女死亡）"


def _lines(cycle):  # type: ignore[no-untyped-def]
    from portal.benefits import queries

    return queries.all_lines(cycle)


def test_rise_loaded_after_closed_cycles_gives_arrears_and_the_bank_round_trip(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.benefits import operations, queries
    from portal.benefits.models import CycleStatus
    from portal.extensions import db
    from portal.kernel.grants import SYSTEM
    from portal.policy.models import BenefitStandard
    from portal.policy.services import add_benefit_value

    with in_new_district(fresh_app, "kf-rise", kaifeng_data(without_rise=True)) as tenant:
        h = add_couple(D(1973, 5, 14), D(1971, 2, 3))  # 49 on 2022-05-14
        db.session.commit()
        with_accounts(h, "62220000{:04d}5678")
        aug = operations.create_cycle(SYSTEM, D(2023, 8, 1))
        assert run_cycle(aug) == {"paid": 2, "failed": 0, "pending": 0}
        sep = operations.create_cycle(SYSTEM, D(2023, 9, 1))
        # the bank fails the husband's September payment
        assert run_cycle(sep, results={2: "账户冻结"}) == {"paid": 1, "failed": 1, "pending": 0}
        assert aug.status == sep.status == CycleStatus.closed
        assert [x.amount for x in _lines(aug)] == [1180, 1180]
        db.session.commit()

        # the 2023 document is loaded after both cycles were closed: 1430 from 2023-08-01
        std = db.session.execute(
            sa.select(BenefitStandard).filter_by(name=KF.split("/")[1])
        ).scalar_one()
        add_benefit_value(
            std, amount="1430", effective_from="2023-08-01", source="汴政办〔2023〕24号"
        )
        db.session.commit()

        before = [(x.id, x.amount, x.status) for x in _lines(aug)]
        octo = operations.create_cycle(SYSTEM, D(2023, 10, 1))
        operations.compute_cycle(SYSTEM, octo, octo.row_version)
        db.session.commit()
        lines = _lines(octo)
        got = sorted((x.kind, x.cause, x.period, x.amount) for x in lines)
        assert got == sorted(
            [
                ("regular", "", D(2023, 10, 1), 1430),
                ("regular", "", D(2023, 10, 1), 1430),
                ("arrears", "rate", D(2023, 8, 1), 250),
                ("arrears", "rate", D(2023, 8, 1), 250),
                ("arrears", "rate", D(2023, 9, 1), 250),
                # the husband's failed September payment carried over at the new rate
                ("arrears", "carried", D(2023, 9, 1), 1430),
            ]
        )
        # closed cycles did not change
        assert [(x.id, x.amount, x.status) for x in _lines(aug)] == before
        with pytest.raises(ValueError, match="closed"):
            _lines(aug)[0].amount = decimal.Decimal(1)
            db.session.flush()
        db.session.rollback()
        octo = db.session.get(type(octo), (tenant.id, octo.id))
        assert octo.input_hash and octo.lines_hash
        # the same inputs give the same lines and hash
        first_hash = octo.lines_hash
        operations.compute_cycle(SYSTEM, octo, octo.row_version)
        assert octo.lines_hash == first_hash
        # the old file states no split: all of it is "whole", level not stated
        assert queries.funding_totals(octo) == {("whole", ""): 1430 * 2 + 250 * 3 + 1430}


def test_death_entered_late_is_recovered(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.benefits import operations
    from portal.extensions import db
    from portal.kernel.grants import SYSTEM
    from portal.register.models import Person

    with in_new_district(fresh_app, "kf-death"):
        h = add_couple(D(1960, 1, 1), D(1959, 1, 1))
        with_accounts(h, "6222{:012d}")
        for m in (D(2024, 1, 1), D(2024, 2, 1)):
            run_cycle(operations.create_cycle(SYSTEM, m))
        wife = db.session.execute(
            sa.select(Person).filter_by(household_id=h.id, relationship_="principal")
        ).scalar_one()
        wife.alive, wife.death_date = False, D(2024, 1, 20)
        db.session.flush()
        mar = operations.create_cycle(SYSTEM, D(2024, 3, 1))
        operations.compute_cycle(SYSTEM, mar, mar.row_version)
        rec = [(x.kind, x.period, x.amount) for x in _lines(mar) if x.kind == "recovery"]
        assert rec == [("recovery", D(2024, 2, 1), -1430)]
        # the 1:1 split of the increase appears apart from the base
        regular = [x for x in _lines(mar) if x.kind == "regular"]
        assert [x.funding for x in regular] == [
            [
                ["base", "", "1180.00"],
                ["increase", "市", "125.00"],
                ["increase", "县（区）", "125.00"],
            ]
        ]


def test_hospital_nursing_91st_day_of_a_year_is_refused(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.benefits import claims, reasons
    from portal.extensions import db
    from portal.kernel.grants import SYSTEM
    from portal.register.models import Person

    key = "6/住院护理补贴"
    with in_new_district(fresh_app, "kf-days"), fresh_app.test_request_context():
        h = add_couple(D(1960, 1, 1), D(1959, 1, 1))
        wife = db.session.execute(
            sa.select(Person).filter_by(household_id=h.id, relationship_="principal")
        ).scalar_one()
        kw = dict(household_id=h.id, person_id=wife.id, standard_key=key, evidence_note="出院小结")
        first = claims.enter_claim(SYSTEM, start=D(2024, 1, 1), end=D(2024, 3, 30), **kw)
        assert [(c.status, c.quantity, c.amount) for c in first] == [("accepted", 90, 27000)]
        again = claims.enter_claim(SYSTEM, start=D(2024, 5, 1), end=D(2024, 5, 3), **kw)
        assert [(c.status, c.quantity) for c in again] == [("refused", 0)]
        assert reasons.words(
            again[0].reason[0]
        ) == "第 91 起拒绝（2024年）：最多 90 天/年" or "91" in reasons.words(again[0].reason[0])
        # the next year starts again; a stay across New Year counts per year
        span = claims.enter_claim(SYSTEM, start=D(2024, 12, 30), end=D(2025, 1, 2), **kw)
        assert [(c.status, c.quantity) for c in span] == [("refused", 0), ("accepted", 2)]
        # once in a lifetime: the second one-off grant is refused
        one = "2/独生子女死亡家庭一次性救助（夫妻双方为我市户籍）"
        kw1 = dict(household_id=h.id, person_id=None, standard_key=one, evidence_note="户籍证明")
        assert claims.enter_claim(SYSTEM, start=D(2024, 2, 1), **kw1)[0].status == "accepted"
        second = claims.enter_claim(SYSTEM, start=D(2025, 2, 1), **kw1)[0]
        assert second.status == "refused" and second.reason == [["once", []]]
