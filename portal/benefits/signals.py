"""The benefit ledger's answers to kernel signals: the duty of a measure whose benefits
the engine computes shows what the period's cycles paid for it, the paying department's
report draft gets the period's figures (counts and amounts only), and a key rotation
re-encrypts the bank accounts."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.benefits import bank, summary
from portal.benefits.models import FINANCE_KIND
from portal.benefits.reasons import money
from portal.extensions import db
from portal.kernel import clock, signals
from portal.kernel.periods import Period
from portal.tenancy.models import Department


@signals.duty_evidence.connect
def on_duty_evidence(duty: Any, **_kwargs: Any) -> list[dict] | None:
    """Figures of the duty's half-year for the lines of the duty's measure (None when the
    engine computed nothing for it: a measure about something else)."""
    try:
        period = Period.parse(getattr(duty, "period", ""))
    except ValueError:
        return None
    number = getattr(duty, "measure_number", None)
    if not number:
        return None
    last = min(period.end, clock.today())
    rows = summary.figures(period.start, last, number)
    if not rows:
        return None
    f, as_of = rows[-1], last.isoformat()
    return [
        {
            "label": _("Benefits paid"),
            "value": _("%(amount)s yuan", amount=money(f.paid)),
            "detail": _("%(n)d households", n=f.households_paid),
            "as_of": as_of,
        },
        {
            "label": _("Arrears and failed payments to pay"),
            "value": _("%(amount)s yuan", amount=money(f.arrears_pending + f.failed_amount)),
            "detail": _("%(n)d failed payments", n=f.failed_lines),
            "as_of": as_of,
        },
    ]


@signals.report_figures.connect
def on_report_figures(
    _meeting: Any, department_id: uuid.UUID, period: Period, as_of: Any, **_kwargs: Any
) -> list[str] | None:
    """The finance department (财政, which pays) reports the period's payments."""
    kind = db.session.execute(
        sa.select(Department.kind_code).where(Department.id == department_id)
    ).scalar()
    if kind != FINANCE_KIND:
        return None
    return summary.report_lines(period.start, min(period.end, as_of), period.label_in("zh"))


@signals.pii_rekey.connect
def on_pii_rekey(_sender: Any, **_kwargs: Any) -> str:
    return f"{bank.rekey_accounts()} bank accounts"
