"""The care domain's answers to the domains below meetings' questions (counts only, so
every viewer may see them):

- `duty_evidence`: the duty of a measure about contact persons, family doctors, visits
  or check-ups shows the district's live coverage figure with its as-of date;
- `report_figures`: the eligibility department's (卫健) report draft to a meeting gets
  the district's care figures as of the meeting's reference date, and the visits and
  check-ups recorded in the period."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from portal.care import queries, rules, status, summary
from portal.care.figures import Coverage
from portal.kernel import clock, signals
from portal.register.models import Household, Person
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


def _district_coverage(as_of: Any, period: Any = None) -> Coverage | None:
    """District-wide figures whoever asks (figures, never households); with `period`,
    also the period's visit and check-up counts on the coverage's `period_counts`."""
    current = scope.current()
    if current.tenant_id is None:
        return None
    token = scope.set_scope(
        dataclasses.replace(current, user_id=None, role=None, department_id=None)
    )
    try:
        cov = queries.coverage(as_of)
        if period is not None:
            cov.period_counts = queries.period_counts(period.start, as_of)
    finally:
        scope.reset_scope(token)
    return cov


@signals.duty_evidence.connect
def on_duty_evidence(duty: Any, **_kwargs: Any) -> list[dict] | None:
    topics = _topics(getattr(duty, "measure", None))
    if not topics:
        return None
    cov = _district_coverage(rules.today())
    if cov is None:
        return None
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


@signals.report_figures.connect
def on_report_figures(
    meeting: Any, department_id: Any = None, period: Any = None, as_of: Any = None, **_kw: Any
) -> list[str] | None:
    """The eligibility department's draft: the care figures as the dashboard shows them
    on the same day (the reference date, never later than today)."""
    if department_id is None or period is None:
        return None
    if department_id != queries.eligibility_department_id():
        return None
    day = min(as_of or clock.today(), clock.today())
    cov = _district_coverage(day, period)
    if cov is None or not cov.district.households:
        return None
    return summary.report_lines(cov, period)


# -- register changes that move the care figures --------------------------------------
# Who is counted (a registered household, its category and village, its living members'
# ages and relationships) is the register's; care's village figures follow each change
# in the same transaction. The register knows nothing of care: care watches the
# session's flushes for changed households and members (the ORM's events, like the
# audit trail's flush hook).

WATCHED = {
    Household: ("status", "category", "village_id", "town_id"),
    Person: ("alive", "birth_date", "relationship_", "household_id"),
}


def _households_changed(session: Session) -> tuple[set, list]:
    """(tenant, household id) pairs whose figures a flush may change, and new rows
    (their ids and tenants are known only after the flush)."""
    known: set[tuple[Any, Any]] = set()
    new: list[Any] = []
    for obj in (*session.dirty, *session.deleted):
        attrs = WATCHED.get(type(obj))
        if attrs is None:
            continue
        state = sa.inspect(obj)
        if obj in session.dirty and not any(state.attrs[a].history.has_changes() for a in attrs):
            continue
        ids = [obj.id] if isinstance(obj, Household) else [obj.household_id]
        if isinstance(obj, Person):
            ids += [v for v in state.attrs["household_id"].history.deleted if v is not None]
        known |= {(obj.tenant_id, i) for i in ids if i is not None}
    fresh = {obj.id for obj in session.new if isinstance(obj, Household)}
    for obj in session.new:
        if isinstance(obj, Person) and obj.household_id not in (None, *fresh):
            tenant_id = obj.tenant_id or scope.current().tenant_id  # stamped in this flush
            known.add((tenant_id, obj.household_id))  # a new member of a counted household
        elif type(obj) in WATCHED:
            new.append(obj)  # a new household (and its members): nothing counted before
    return known, new


@sa.event.listens_for(Session, "before_flush")
def _before_register_flush(session: Session, _context: Any, _instances: Any) -> None:
    known, new = _households_changed(session)
    if not known and not new:
        return
    by_tenant: dict[Any, set] = {}
    for tenant_id, household_id in known:
        by_tenant.setdefault(tenant_id, set()).add(household_id)
    before = {t: (ids, status.figures_of(t, ids)) for t, ids in by_tenant.items()}
    session.info.setdefault("care_register_changes", []).append((before, new))


@sa.event.listens_for(Session, "after_flush_postexec")
def _after_register_flush(session: Session, _context: Any) -> None:
    for before, new in session.info.pop("care_register_changes", []):
        for obj in new:
            household_id = obj.id if isinstance(obj, Household) else obj.household_id
            ids, _old = before.setdefault(obj.tenant_id, (set(), ({}, {})))
            ids.add(household_id)
        for tenant_id, (ids, old) in before.items():
            if old is None:  # not countable before (a date after today): recompute later
                status.forget(tenant_id)
            else:
                status.touch(tenant_id, ids, households=False, persons=False, before=old)
