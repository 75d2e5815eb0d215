"""Coverage figures are computed live and equal a plain SQL count of the same rule, for
every demo district; the rules follow each district's own policy."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.care.helpers import as_user, district, officer_town, user_named
from tests.register.helpers import tenant_id

SLUGS = ["zhangdian", "jiading", "jiangyan", "kaifeng"]


def _sql(app, sql: str, **params):  # type: ignore[no-untyped-def]
    """A direct count on the database, outside the ORM and the figures' code."""
    from portal.extensions import db
    from portal.tenancy import scope

    with app.app_context(), scope.cross_tenant("test"):
        value = db.session.execute(sa.text(sql), params).scalar()
        db.session.remove()
    return value


@pytest.mark.parametrize("slug", SLUGS)
def test_district_figures_equal_a_direct_sql_count(app, slug: str) -> None:  # type: ignore[no-untyped-def]
    from portal.care import queries, rules

    with district(app, slug):
        today = rules.today()
        cov = queries.coverage(today)
        policy = cov.policy
        f = cov.district
    tid = tenant_id(app, slug)
    t = {"t": tid.hex if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") else tid}
    households = _sql(
        app, "SELECT count(*) FROM households WHERE tenant_id = :t AND status = 'registered'", **t
    )
    assert f.households == households > 0
    need = max(policy.contacts_min, 1)
    roles = "".join(
        f" AND EXISTS (SELECT 1 FROM care_assignments a2 JOIN care_contacts c2 ON c2.tenant_id = "
        f"a2.tenant_id AND c2.id = a2.contact_id WHERE a2.tenant_id = h.tenant_id AND "
        f"a2.household_id = h.id AND a2.ended_on IS NULL AND c2.active AND c2.role = '{r}')"
        for r in policy.required_roles
    )
    contact_ok = _sql(
        app,
        "SELECT count(*) FROM households h WHERE h.tenant_id = :t AND h.status = 'registered' "
        "AND (SELECT count(*) FROM care_assignments a JOIN care_contacts c ON c.tenant_id = "
        "a.tenant_id AND c.id = a.contact_id WHERE a.tenant_id = h.tenant_id AND a.household_id "
        f"= h.id AND a.ended_on IS NULL AND c.active) >= {need}" + roles,
        **t,
    )
    assert f.contact_ok == contact_ok
    assert 0 < contact_ok < households  # the demo has short households too
    signed = _sql(
        app,
        "SELECT count(*) FROM persons p JOIN households h ON h.tenant_id = p.tenant_id AND "
        "h.id = p.household_id WHERE p.tenant_id = :t AND h.status = 'registered' AND p.alive "
        "AND EXISTS (SELECT 1 FROM care_doctor_contracts d WHERE d.tenant_id = p.tenant_id AND "
        "d.person_id = p.id AND NOT d.declined)",
        **t,
    )
    assert f.doctor_signed == signed > 0
    q_start, _ = rules.quarter_of(today)
    silent = _sql(
        app,
        "SELECT count(*) FROM households h WHERE h.tenant_id = :t AND h.status = 'registered' "
        "AND NOT EXISTS (SELECT 1 FROM care_visits v WHERE v.tenant_id = h.tenant_id AND "
        "v.household_id = h.id AND v.visited_on >= :q AND v.visited_on <= :d)",
        q=q_start,
        d=today,
        **t,
    )
    assert f.no_contact_quarter == silent
    done = 0
    for rule, day in policy.festivals_in(today.year):
        if day - dt.timedelta(days=30) > today:
            continue
        types = ",".join(f"'{c}'" for c in rule.family_types) or "h.category"
        age = (
            " AND EXISTS (SELECT 1 FROM persons p WHERE p.tenant_id = h.tenant_id AND "
            "p.household_id = h.id AND p.alive AND p.relationship IN ('principal','spouse') "
            "AND p.birth_date <= :born)"
            if rule.member_min_age is not None
            else ""
        )
        done += _sql(
            app,
            f"SELECT count(*) FROM households h WHERE h.tenant_id = :t AND h.status = "
            f"'registered' AND h.category IN ({types}){age} AND EXISTS (SELECT 1 FROM "
            "care_visits v WHERE v.tenant_id = h.tenant_id AND v.household_id = h.id AND "
            "v.kind = 'festival' AND v.festival = :f AND v.festival_year = :y)",
            f=rule.festival,
            y=today.year,
            born=rules.years_before(day, rule.member_min_age or 0),
            **t,
        )
    assert f.festival_done == done
    if policy.festival_rules:
        assert 0 < f.festival_done < f.festival_due
    # the towns and villages add up to the district
    assert sum(x.households for x in cov.towns.values()) == f.households
    assert sum(x.festival_done for x in cov.villages.values()) == f.festival_done


def test_a_town_officer_sees_only_their_towns_figures(app) -> None:  # type: ignore[no-untyped-def]
    from portal.care import queries

    with district(app, "jiading"):
        lead_view = queries.coverage()
        officer = user_named("jiading-town1")
        town = officer_town(officer)
        with as_user(officer, "town_officer"):
            own = queries.coverage()
    assert set(own.towns) == {town}
    assert own.district.households == lead_view.towns[town].households
    assert own.district.contact_ok == lead_view.towns[town].contact_ok


def test_dashboard_runs_a_bounded_number_of_statements(app, login_as) -> None:  # type: ignore[no-untyped-def]
    """One statement gives every figure (the district's village rows, pre-aggregated),
    whatever the district's size or policy, and none while the district's audit chain has
    not moved; the page's other statements are the shell's."""
    from portal.care import figures
    from tests.conftest import statements

    counts = {}
    for slug in ("zhangdian", "jiading", "kaifeng"):
        b = login_as(f"{slug}-lead")
        b.get(f"/t/{slug}/care/")  # warm: the session's user and tenant
        figures._COVERAGE.clear()
        with statements(app) as seen:
            assert b.get(f"/t/{slug}/care/").status_code == 200
        computed = [s for s in seen if "care_" in s]
        # pre-aggregated: the district's village rows, never the care tables
        assert len(computed) == 1, computed
        assert "care_village_figures" in computed[0]
        counts[slug] = len(seen)
        with statements(app) as seen:
            assert b.get(f"/t/{slug}/care/").status_code == 200
        assert not [s for s in seen if "care_" in s]  # from memory
    assert max(counts.values()) <= 10, counts  # (an expired policy: one more look-up)


def test_cached_figures_follow_every_audited_write(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """The dashboard's figures come from memory until the district's audit chain moves:
    a recorded visit is counted on the next read."""
    from portal.care import operations, queries
    from portal.extensions import db
    from portal.kernel.grants import SYSTEM

    with district(fresh_app, "kaifeng"):
        first = queries.coverage_cached()
        assert queries.coverage_cached() is first  # nothing written: the same figures
        silent = queries.households_for("no_contact_quarter", limit=1)[0]
        operations.record_visit(
            SYSTEM, silent.id, visited_on=first.as_of, kind="phone", findings="电话问候"
        )
        db.session.commit()
        again = queries.coverage_cached()
        assert again is not first
        assert again.district.no_contact_quarter == first.district.no_contact_quarter - 1
        assert again.district.as_dict() == queries.coverage().district.as_dict()


def test_figures_add_sums_every_count() -> None:
    """`Figures.add` goes by the column list: a count missing from it would not add up."""
    from dataclasses import asdict

    from portal.care.figures import Figures
    from portal.care.models import FIGURE_COLUMNS

    total = Figures(**{c: i + 1 for i, c in enumerate(FIGURE_COLUMNS)})
    total.add(Figures(**{c: 10 * (i + 1) for i, c in enumerate(FIGURE_COLUMNS)}))
    assert asdict(total) == {f: 11 * (i + 1) for i, f in enumerate(asdict(Figures()))}
