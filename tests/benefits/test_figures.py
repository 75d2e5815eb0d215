"""The benefit figures the duties, department reports, draft agenda and prep pack show
equal a direct SQL sum over the district's cycle lines (both backends, 开封 and 张店 demo)."""

from __future__ import annotations

import datetime as dt
import decimal
import io

import pytest
import sqlalchemy as sa

from tests.care.helpers import district
from tests.register.helpers import tenant_id

SQL = """
SELECT count(*) AS n,
       coalesce(sum(CASE WHEN l.amount > 0 THEN l.amount ELSE 0 END), 0) AS due,
       coalesce(sum(CASE WHEN l.status = 'paid' THEN l.amount ELSE 0 END), 0) AS paid,
       count(DISTINCT CASE WHEN l.status = 'paid' AND l.amount > 0 THEN l.household_id END)
         AS households,
       coalesce(sum(CASE WHEN l.status = 'pending' AND l.kind = 'arrears' THEN l.amount
                    ELSE 0 END), 0) AS arrears,
       sum(CASE WHEN l.status = 'failed' THEN 1 ELSE 0 END) AS failed_n,
       coalesce(sum(CASE WHEN l.status = 'failed' THEN l.amount ELSE 0 END), 0) AS failed,
       coalesce(sum(CASE WHEN l.status = 'pending' AND l.kind = 'recovery' THEN -l.amount
                    ELSE 0 END), 0) AS recoveries
FROM payment_lines l JOIN payment_cycles c ON c.tenant_id = l.tenant_id AND c.id = l.cycle_id
WHERE l.tenant_id = :t AND c.period BETWEEN :a AND :b AND l.in_kind = :no {measure}
"""


def _direct(app, slug: str, first: dt.date, last: dt.date, measure: str | None = None):  # type: ignore[no-untyped-def]
    """The sums straight from the tables, outside the application's scoping."""
    from portal.extensions import db
    from portal.tenancy import scope

    t = tenant_id(app, slug)
    with app.app_context(), scope.cross_tenant("test"):
        sql = SQL.format(measure="AND l.measure_number = :m" if measure else "")
        params = {"t": t if db.engine.dialect.name == "postgresql" else t.hex, "a": first,
                  "b": last, "no": False, "m": measure}  # fmt: skip
        row = db.session.execute(sa.text(sql), params).one()
        db.session.remove()
    cent = decimal.Decimal("0.01")
    money = [decimal.Decimal(str(x)).quantize(cent) for x in (row.due, row.paid, row.arrears)]
    failed = decimal.Decimal(str(row.failed)).quantize(cent)
    recoveries = decimal.Decimal(str(row.recoveries)).quantize(cent)
    return row.n, (*money, int(row.households), int(row.failed_n or 0), failed, recoveries)


def _span(app, slug: str) -> tuple[dt.date, dt.date]:  # type: ignore[no-untyped-def]
    from portal.benefits.models import PaymentCycle
    from portal.extensions import db

    with district(app, slug):
        return db.session.execute(
            sa.select(sa.func.min(PaymentCycle.period), sa.func.max(PaymentCycle.period))
        ).one()


def _got(f):  # type: ignore[no-untyped-def]
    q = decimal.Decimal("0.01")
    return (f.due.quantize(q), f.paid.quantize(q), f.arrears_pending.quantize(q),
            f.households_paid, f.failed_lines, f.failed_amount.quantize(q),
            f.recoveries_pending.quantize(q))  # fmt: skip


@pytest.mark.parametrize("slug", ["kaifeng", "zhangdian"])
def test_figures_equal_a_direct_sum_over_the_lines(app, slug: str) -> None:  # type: ignore[no-untyped-def]
    from portal.benefits import summary

    first, last = _span(app, slug)
    halves = [(first, last), (first, first.replace(month=6, day=30) if first.month <= 6 else
              first.replace(month=12, day=31)), (last.replace(day=1), last)]  # fmt: skip
    for a, b in halves:
        with district(app, slug):
            rows = summary.figures(a, b)
        n, expected = _direct(app, slug, a, b)
        if not n:
            assert rows == []
            continue
        assert _got(rows[-1]) == expected and rows[-1].name == ""
        # each standard's row equals its own sum; the rows add up to the total
        assert sum((r.paid for r in rows[:-1]), decimal.Decimal(0)) == rows[-1].paid
    with district(app, slug):
        rows = summary.figures(first, last)
    assert rows and rows[-1].due > 0
    # 开封 pays persons (the demo's third cycle has a failed payment); 张店's premiums go to
    # the insurer and stay outstanding (not paid through the bank file)
    if slug == "kaifeng":
        assert rows[-1].paid > 0 and rows[-1].households_paid > 0 and rows[-1].failed_lines >= 1


def test_duty_evidence_and_the_finance_report_carry_the_figures(app) -> None:  # type: ignore[no-untyped-def]
    from portal.benefits import reasons
    from portal.duties.models import Duty
    from portal.extensions import db
    from portal.kernel import clock, signals
    from portal.kernel.periods import Period
    from portal.meetings import reports
    from portal.meetings.models import Meeting as JointMeeting
    from portal.tenancy.models import Department

    with district(app, "kaifeng"):
        duty = (
            db.session.execute(
                sa.select(Duty).where(Duty.measure_number == "1").order_by(Duty.period.desc())
            )
            .scalars()
            .first()
        )
        other = (
            db.session.execute(sa.select(Duty).where(Duty.measure_number == "3").limit(1))
            .scalars()
            .first()
        )
        answers = signals.responses(signals.duty_evidence.send(duty))
        none = signals.responses(signals.duty_evidence.send(other)) if other else []
        period = Period.parse(duty.period)
        finance = db.session.execute(
            sa.select(Department.id).where(Department.kind_code == "finance")
        ).scalar()
        health = db.session.execute(
            sa.select(Department.id).where(Department.kind_code == "health")
        ).scalar()
        meeting = db.session.execute(sa.select(JointMeeting).limit(1)).scalars().first()
        as_of = dt.date(period.end.year, 12, 31)
        with mock_period(reports, period, as_of):
            finance_report = reports.draft_report(meeting, finance).body
            health_report = reports.draft_report(meeting, health).body
    last = min(period.end, clock.today())
    n, (due, paid, arrears, households, failed_n, failed, _rec) = _direct(
        app, "kaifeng", period.start, last, "1"
    )
    assert n, "the demo pays measure 1 in the duty's half-year"
    figures = [f for a in answers for f in a if f["label"] == "已发放扶助金"]
    assert figures and figures[0]["value"] == f"{reasons.money(paid)} 元"
    assert figures[0]["detail"] == f"{households} 户"
    assert not [f for a in none for f in a if f["label"] == "已发放扶助金"]
    assert "### 特殊家庭扶助资金发放" in finance_report
    n, (_due, paid_all, *_rest) = _direct(app, "kaifeng", period.start, period.end)
    assert f"{reasons.money(paid_all)} 元" in finance_report
    assert "特殊家庭扶助资金发放" not in health_report


def mock_period(reports, period, as_of):  # type: ignore[no-untyped-def]
    """The meeting's period and reference date as the test chooses (any demo meeting)."""
    from unittest import mock

    stack = mock.patch.multiple(
        reports.queries, meeting_period=lambda m: period, reference_date=lambda m: as_of
    )
    return stack


def test_agenda_line_and_prep_pack_table(app, login_as) -> None:  # type: ignore[no-untyped-def]
    from docx import Document

    from portal.benefits import summary

    first, last = _span(app, "kaifeng")
    with district(app, "kaifeng"):
        line = summary.agenda_line(first, last)
        table = summary.table(first, last)
    _n, (due, paid, arrears, households, failed_n, failed, _rec) = _direct(
        app, "kaifeng", first, last
    )
    from portal.benefits.reasons import money

    assert f"已发放 {households} 户 {money(paid)} 元" in line
    assert f"银行退回 {failed_n} 笔 {money(failed)} 元" in line
    assert table[-1][0] == "合计" and table[-1][3] == money(paid)
    # the prep pack of a meeting whose half-year has cycles carries the table
    b = login_as("kaifeng-lead")
    import re

    page = b.get("/t/kaifeng/meetings/?kind=regular").get_data(as_text=True)
    ids = list(dict.fromkeys(re.findall(r"/t/kaifeng/meetings/([0-9a-f-]{36})", page)))
    found = False
    for mid in ids:
        r = b.get(f"/t/kaifeng/meetings/{mid}/export/prep-pack.docx")
        assert r.status_code == 200
        doc = Document(io.BytesIO(r.data))
        tables = [t for t in doc.tables if t.rows[0].cells[0].text == "扶助项目"]
        if tables:
            found = True
            assert tables[0].rows[-1].cells[0].text == "合计"
    assert found, "no demo meeting's half-year has payment cycles"
