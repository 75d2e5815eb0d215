"""The cadences as each district's policy states them."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.care.helpers import district


def test_festival_dates_come_from_the_table_and_refuse_unknown_years() -> None:
    from portal.care import festivals
    from portal.kernel.rules import RuleError

    assert festivals.festival_date("mid_autumn", 2026) == dt.date(2026, 9, 25)
    assert festivals.festival_date("spring_festival", 2027) == dt.date(2027, 2, 6)
    assert festivals.festival_date("double_ninth", 2025) == dt.date(2025, 10, 29)
    with pytest.raises(RuleError):
        festivals.festival_date("mid_autumn", 2040)


def test_zhangdian_festival_visits_are_due_for_the_households_its_document_names(app) -> None:  # type: ignore[no-untyped-def]
    """春节 and 中秋: 失独 households; 重阳: disabled-child households with a parent of 60
    or more on the day; nobody else."""
    from portal.care import queries, rules
    from portal.extensions import db
    from portal.register.models import Household, HouseholdStatus, Person, Relationship

    with district(app, "zhangdian"):
        policy = rules.current_policy()
        by_festival = {r.festival: r for r in policy.festival_rules}
        assert set(by_festival) == {"spring_festival", "mid_autumn", "double_ninth"}
        households = {
            h.id: h
            for h in db.session.execute(
                sa.select(Household).where(Household.status == HouseholdStatus.registered)
            )
            .unique()
            .scalars()
        }
        parents: dict = {}
        for p in db.session.execute(sa.select(Person).where(Person.alive.is_(True))).scalars():
            if p.relationship_ in (Relationship.principal, Relationship.spouse):
                parents.setdefault(p.household_id, []).append(p.birth_date)
        year = 2026
        for code in ("spring_festival", "mid_autumn"):
            due = set(queries.festival_due_households(by_festival[code], year))
            assert due == {h for h, x in households.items() if x.category == "bereaved"}
        day = rules.FestivalRule("double_ninth").date(year)
        due = set(queries.festival_due_households(by_festival["double_ninth"], year))
        expected = {
            h
            for h, x in households.items()
            if x.category == "disabled_child"
            and any(rules.age(b, day) >= 60 for b in parents.get(h, []))
        }
        assert due == expected and due  # some disabled-child households are over 60 …
        younger = {h for h, x in households.items() if x.category == "disabled_child"} - expected
        assert younger  # … and some are not, and they are not due
        assert not due & {h for h, x in households.items() if x.category != "disabled_child"}


def test_jiading_doctor_contact_is_overdue_the_day_after_the_quarter_ends(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.audit import trail
    from portal.care import queries, rules
    from portal.care.models import DoctorContract, Visit, VisitKind
    from portal.extensions import db

    with district(fresh_app, "jiading"), trail.acting_as(trail.system_actor("test")):
        policy = rules.current_policy()
        assert policy.doctor_cadence == "quarterly"
        contract = db.session.execute(
            sa.select(DoctorContract)
            .where(DoctorContract.declined.is_(False))
            .order_by(DoctorContract.id)
            .limit(1)
        ).scalar_one()
        hid = contract.household_id
        # this household: signed long ago, doctor contacts only as we write them below
        for v in db.session.execute(
            sa.select(Visit).where(Visit.household_id == hid, Visit.kind == VisitKind.doctor)
        ).scalars():
            db.session.delete(v)
        contract.signed_on = dt.date(2025, 1, 10)
        db.session.flush()

        def overdue(day: dt.date) -> bool:
            return hid in {h.id for h in queries.households_for("doctor_overdue", day, limit=10000)}

        db.session.add(
            Visit(household_id=hid, visited_on=dt.date(2026, 5, 20), kind=VisitKind.doctor)
        )
        db.session.flush()
        # Q2 2026 had a contact; Q3 had none: on 30 September nothing is overdue yet …
        assert not overdue(dt.date(2026, 9, 30))
        assert not overdue(dt.date(2026, 7, 1))  # Q2's contact was made
        # … on 1 October, the day after Q3 ends, it is
        assert overdue(dt.date(2026, 10, 1))
        db.session.add(
            Visit(household_id=hid, visited_on=dt.date(2026, 9, 30), kind=VisitKind.doctor)
        )
        db.session.flush()
        assert not overdue(dt.date(2026, 10, 1))
        db.session.rollback()


def test_zhangdian_has_no_doctor_cadence_so_nothing_is_doctor_overdue(app) -> None:  # type: ignore[no-untyped-def]
    from portal.care import queries

    with district(app, "zhangdian"):
        assert queries.coverage().district.doctor_overdue == 0
