"""The care domain's answer to `duty_evidence`: the duty of a measure about contact
persons, family doctors, visits or check-ups shows the district's live coverage figure
with its as-of date (counts only, so every viewer of the duty may see them)."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask_babel import gettext as _

from portal.care import queries, rules
from portal.kernel import signals
from portal.tenancy import scope


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}%"


def _topics(measure: Any) -> set[str]:
    text = f"{getattr(measure, 'title', '')} {getattr(measure, 'text', '')}"
    topics = set()
    if getattr(measure, "category", "") == "contact_person" or "联系人" in text:
        topics.add("contact")
    if "家庭医生" in text:
        topics.add("doctor")
    if "慰问" in text or "走访" in text:
        topics.add("festival")
    if "体检" in text:
        topics.add("checkup")
    return topics


@signals.duty_evidence.connect
def on_duty_evidence(duty: Any, **_kwargs: Any) -> list[dict] | None:
    topics = _topics(getattr(duty, "measure", None))
    if not topics:
        return None
    current = scope.current()
    if current.tenant_id is None:
        return None
    # district-wide counts whoever reads the duty: figures, never households
    token = scope.set_scope(
        dataclasses.replace(current, user_id=None, role=None, department_id=None)
    )
    try:
        cov = queries.coverage(rules.today())
    finally:
        scope.reset_scope(token)
    f, r = cov.district, cov.district.rates()
    if not f.households:
        return None
    as_of = cov.as_of.isoformat()
    out = []
    if "contact" in topics:
        out.append({
            "label": _("Contact coverage"), "value": _pct(r["contact"]),
            "detail": _("%(n)d households short", n=f.households - f.contact_ok), "as_of": as_of,
        })  # fmt: skip
    if "doctor" in topics:
        out.append({
            "label": _("Doctor-contract coverage"), "value": _pct(r["doctor"]),
            "detail": f"{f.doctor_signed}/{f.persons}", "as_of": as_of,
        })  # fmt: skip
    if "festival" in topics and f.festival_due:
        out.append({
            "label": _("Festival-visit completion"), "value": _pct(r["festival"]),
            "detail": f"{f.festival_done}/{f.festival_due}", "as_of": as_of,
        })  # fmt: skip
    if "checkup" in topics and f.checkup_due:
        out.append({
            "label": _("Check-up completion"), "value": _pct(r["checkup"]),
            "detail": f"{f.checkup_done}/{f.checkup_due}", "as_of": as_of,
        })  # fmt: skip
    return out or None
