"""The duty of the contact-person measure shows the district's live contact coverage
as evidence, with its as-of date, to the department that holds it."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.care.helpers import district


def test_contact_measure_duty_shows_its_coverage(app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.care import queries
    from portal.duties.models import Duty
    from portal.extensions import db
    from portal.kernel import clock, timefmt
    from portal.policy.models import Measure

    with district(app, "jiading"):
        duty = db.session.execute(
            sa.select(Duty)
            .join(
                Measure, sa.and_(Measure.tenant_id == Duty.tenant_id, Measure.id == Duty.measure_id)
            )
            .where(Measure.category == "contact_person")
            .order_by(Duty.period.desc())
            .limit(1)
        ).scalar_one()
        duty_id = duty.id
        f = queries.coverage(clock.today()).district
        expected = f"{f.rates()['contact']:.1f}%"
        short = f.households - f.contact_ok
    page = login_as("jiading-lead").get(f"/t/jiading/duties/{duty_id}").get_data(as_text=True)
    block = re.search(r'id="live-figures">(.*?)</section>', page, re.S).group(1)
    assert expected in block and str(short) in block
    assert f"截至 {timefmt.format_date(clock.today(), english=False)}" in block
