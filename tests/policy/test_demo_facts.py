"""The demo states each district's own facts (issue 14): amounts from its benefit
standards, payments claimed once by the paying department, meetings and chairs only as
its document sets them, accounts named after the document's own bodies."""

from __future__ import annotations

import decimal
import re

import sqlalchemy as sa
import yaml

from tests.conftest import ROOT
from tests.policy.test_fact_check import SEED_FILES, SEEDS

SLUGS = ("zhangdian", "jiangyan", "jiading", "kaifeng")


def _policy(slug: str) -> dict:
    return yaml.safe_load((ROOT / "tenants" / f"{slug}.yaml").read_text(encoding="utf-8"))


def _seed(slug: str) -> str:
    return re.sub(r"\s+", "", (SEEDS / SEED_FILES[slug]).read_text(encoding="utf-8"))


def _entries(app, slug: str) -> list:  # type: ignore[no-untyped-def]
    from portal.duties.models import Duty, ProgressEntry
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.services import get_tenant

    with app.app_context(), scope.tenant_scope(get_tenant(slug).id):
        rows = db.session.execute(
            sa.select(ProgressEntry, Duty).join(Duty, Duty.id == ProgressEntry.duty_id)
        ).all()
        return [
            (
                e.work_date,
                e.narrative,
                e.families_reached,
                decimal.Decimal(e.amount_paid or 0),
                d.measure_number,
                d.department.key,
            )
            for e, d in rows
        ]


def test_every_demo_amount_is_a_standard_of_its_own_district(app) -> None:  # type: ignore[no-untyped-def]
    from portal.duties.demo import persons_per_family, value_on

    paid = 0
    for slug in SLUGS:
        measures = {str(m["number"]): m for m in _policy(slug)["measures"]}
        claimed: dict[tuple, str] = {}
        for day, text, families, amount, number, dept in _entries(app, slug):
            assert "一卡通" not in text, (slug, text)
            assert slug == "kaifeng" or "1430" not in text, (slug, text)
            if not amount:
                continue
            paid += 1
            m = measures[number]
            # paid only by the measure's first lead: one payment is claimed once
            assert dept == m["lead"][0], (slug, number, dept)
            key = (number, day, amount)
            assert key not in claimed, (slug, key, claimed.get(key), dept)
            claimed[key] = dept
            # the amount is a standard of this measure, in force on the work date, times
            # the people (or days) it was paid for
            fits = []
            for b in m["benefits"]:
                value = value_on(b, day)
                if value is None or b["name"] not in text:
                    continue
                if b["unit"] in ("yuan_per_year", "yuan_per_month"):
                    fits.append(amount == value)
                    continue
                quantity = amount / value
                limit = families * persons_per_family(b) * (b.get("max_quantity") or 1)
                fits.append(quantity == quantity.to_integral_value() and 0 < quantity <= limit)
            assert any(fits), (slug, number, text, amount)
    assert paid > 0  # the demo does pay something


def test_no_demo_amount_where_a_district_sets_none(app) -> None:  # type: ignore[no-untyped-def]
    """姜堰's draft states no amount (and creates no duties); 1430 is 开封's alone."""
    assert _entries(app, "jiangyan") == []
    for slug in ("zhangdian", "jiading"):
        assert not any(a == 1430 or "1430" in t for _d, t, _f, a, _n, _k in _entries(app, slug))


def test_every_demo_meeting_matches_its_arrangement(app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.meetings.models import Meeting, MeetingKind, Minutes
    from portal.tenancy import scope
    from portal.tenancy.models import Department
    from portal.tenancy.services import get_tenant

    for slug in SLUGS:
        arrangement = _policy(slug).get("meeting")
        with app.app_context(), scope.tenant_scope(get_tenant(slug).id):
            meetings = db.session.execute(sa.select(Meeting)).scalars().all()
            rooms = {d.name for d in db.session.execute(sa.select(Department)).scalars()}
            if arrangement is None:  # 嘉定: no joint-meeting clause, no meeting
                assert meetings == [], slug
                continue
            named = {arrangement.get("chief_convener"), *(arrangement.get("conveners") or [])}
            assert meetings, slug
            for m in meetings:
                assert m.chair == "" or m.chair in named, (slug, m.chair)
                assert any(m.place.startswith(r) for r in rooms), (slug, m.place)
                if arrangement.get("cadence") == "ad_hoc":  # 张店: only as needed
                    assert m.kind == MeetingKind.ad_hoc, slug
            ad_hoc = [m for m in meetings if m.kind == MeetingKind.ad_hoc]
            if ad_hoc and arrangement.get("cadence") != "ad_hoc":
                assert "临时召开" in (arrangement.get("note") or ""), slug  # 开封 18 allows it
            minutes = " ".join(db.session.execute(sa.select(Minutes.body)).scalars().all())
            if "双岗" in minutes:
                assert "双岗" in _seed(slug), slug


def test_lead_accounts_are_named_after_the_documents_bodies(app) -> None:  # type: ignore[no-untyped-def]
    from portal.auth.models import User
    from portal.extensions import db
    from portal.tenancy import scope

    with app.app_context(), scope.cross_tenant("test"):
        names = {
            u.username: u.display_name
            for u in db.session.execute(sa.select(User).where(User.username.like("%-lead")))
            .scalars()
            .all()
        }
    for slug in SLUGS:
        name = names[f"{slug}-lead"]
        roster = {d["name"] for d in _policy(slug)["departments"]}
        assert "联席办" not in name
        assert re.sub(r"\s+", "", name) in _seed(slug) or name in roster, (slug, name)
