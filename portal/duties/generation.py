"""Duty generation: one Duty per (measure, responsible department, half-year).

Run by the lead (the duty list's button), the CLI, the demo and — through the kernel's
`policy_changed` and `tenant_onboarded` signals — whenever a district's policy changes
(`portal.duties.signals`). Idempotent; the caller's unit of work commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.audit import trail
from portal.duties.models import Duty, DutyStatus, ProgressEntry
from portal.duties.rules import SIGNED, flush
from portal.extensions import db
from portal.kernel import timefmt
from portal.kernel.grants import require
from portal.kernel.periods import Period
from portal.policy import rules as policy_rules
from portal.policy.models import Measure, MeasureResponsibility, PolicyVersion
from portal.tenancy import scope
from portal.tenancy.models import Department


@dataclass
class GenerationResult:
    period: str
    version: PolicyVersion | None = None
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_signed: int = 0
    removed: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "policy_version": str(self.version) if self.version else None,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "kept_signed": self.kept_signed,
            "removed": self.removed,
            "warnings": list(self.warnings),
        }


def new_duty(period: Period, measure: Measure, resp: MeasureResponsibility) -> Duty:
    """The one way a Duty is made: due at the end of its half-year, not started."""
    return Duty(
        period=period.code,
        department_id=resp.department_id,
        measure_id=measure.id,
        measure_number=measure.number,
        role=resp.role,
        due_date=period.end,
        status=DutyStatus.not_started,
    )


def version_for_period(period: Period) -> tuple[PolicyVersion | None, str | None]:
    """The policy version in force during the period; else the last one, with a warning.

    An expired policy (张店 expired 2026-01-07) creates duties for the half-years after
    its end only when the district lead decided to keep working to it (policy.rules);
    a draft (姜堰's 征求意见稿) creates none until adopted.
    """
    versions = (
        db.session.execute(
            sa.select(PolicyVersion)
            .where(PolicyVersion.effective_from <= period.end)
            .order_by(PolicyVersion.effective_from.desc(), PolicyVersion.created_at.desc())
        )
        .scalars()
        .all()
    )
    in_force = [v for v in versions if policy_rules.generates_duties(v)]
    for version in in_force:
        if not policy_rules.expired_before(version, period):
            return version, None
    if in_force:
        last = in_force[0]
        until = timefmt.format_date(last.effective_until)
        if policy_rules.generates_duties_for(last, period):
            return last, str(
                _l(
                    "The policy %(doc)s expired on %(date)s; by the decision of %(who)s on "
                    "%(when)s, duties for %(period)s follow it until a new policy is loaded.",
                    doc=str(last),
                    date=until,
                    who=last.after_expiry_decided_by,
                    when=timefmt.format_date(last.after_expiry_decided_at),
                    period=period.label,
                )
            )
        return None, str(
            _l(
                "The policy %(doc)s expired on %(date)s; no duties are created for %(period)s "
                "unless the district lead decides to keep working to it until a new policy "
                "is loaded.",
                doc=str(last),
                date=until,
                period=period.label,
            )
        )
    if versions:
        return None, str(
            _l(
                "Only a draft policy (%(doc)s) is configured; it creates no duties until the "
                "district lead adopts it.",
                doc=str(versions[0]),
            )
        )
    return None, str(_l("No policy version is in force; no duties were generated."))


def _wanted(version: PolicyVersion) -> dict[tuple[uuid.UUID, str], tuple[Measure, Any]]:
    """(department, measure number) → (measure, responsibility) of active departments."""
    wanted: dict[tuple[uuid.UUID, str], tuple[Measure, Any]] = {}
    rows = db.session.execute(
        sa.select(Measure, MeasureResponsibility)
        .join(MeasureResponsibility, MeasureResponsibility.measure_id == Measure.id)
        .join(Department, Department.id == MeasureResponsibility.department_id)
        .where(Measure.version_id == version.id, Measure.creates_duty.is_(True))
        .where(Department.active.is_(True))
        .order_by(Measure.position, MeasureResponsibility.position)
    ).all()
    for measure, resp in rows:
        wanted.setdefault((resp.department_id, measure.number), (measure, resp))
    return wanted


def generate_duties(actor: Any, period: Period | str | None = None) -> GenerationResult:
    """Create, update or remove the period's duties to follow the version in force.

    Unsigned duties follow the version (measure, role); signed-off ones (submitted,
    accepted) are never touched; obsolete unsigned duties with no entries are removed.
    `actor` is the lead (the list's button) or `SYSTEM` (CLI, demo, signal receivers).
    """
    require(actor, "duty.review")
    if scope.current().tenant_id is None:
        raise scope.ScopeError("generate_duties needs a tenant in scope")
    half = Period.parse(period) if period else Period.current()
    result = GenerationResult(period=half.code)
    version, warning = version_for_period(half)
    if warning:
        result.warnings.append(warning)
    result.version = version
    # No version for the half-year (e.g. an expired policy the lead does not keep working
    # to): unsigned duties with no work logged are removed like any obsolete duty.
    wanted = _wanted(version) if version is not None else {}
    existing = {
        (d.department_id, d.measure_number): d
        for d in db.session.execute(sa.select(Duty).where(Duty.period == half.code))
        .unique()
        .scalars()
        .all()
    }
    with_entries = set(
        db.session.execute(
            sa.select(ProgressEntry.duty_id)
            .join(Duty, Duty.id == ProgressEntry.duty_id)
            .where(Duty.period == half.code)
            .distinct()
        ).scalars()
    )
    for key, (measure, resp) in wanted.items():
        duty = existing.get(key)
        if duty is None:
            db.session.add(new_duty(half, measure, resp))
            result.created += 1
        elif duty.status in SIGNED:
            result.kept_signed += 1
        elif duty.measure_id != measure.id or duty.role != resp.role or duty.due_date != half.end:
            duty.measure_id, duty.role, duty.due_date = measure.id, resp.role, half.end
            result.updated += 1
        else:
            result.unchanged += 1
    for key, duty in existing.items():
        if key in wanted:
            continue
        if duty.status in SIGNED:
            result.kept_signed += 1
        elif duty.id not in with_entries and duty.status == DutyStatus.not_started:
            db.session.delete(duty)
            result.removed += 1
        else:
            result.unchanged += 1
    flush()
    if result.changed:
        record_period("duties.generate", half, result.as_dict())
    return result


def record_period(action: str, half: Period, data: dict) -> None:
    """An audit event about a whole half-year of duties (generated, exported): the period
    is the record it names."""
    trail.record(
        db.session, action, entity_type="period", entity_id=half.code, summary=half.code, data=data
    )
