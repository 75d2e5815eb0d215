"""Bridges from onboarding to the policy and duties services.

The policy side (`portal.policy.schema` / `portal.policy.services`) is called directly.
Duties (`current_period`, `generate_duties` in portal.duties.services) are used when
that module is present; until then a minimal fallback here generates the period's duties.
"""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

import sqlalchemy as sa

from portal.extensions import db
from portal.kernel.periods import Period
from portal.policy import schema
from portal.policy import services as policy_services
from portal.policy.schema import Problem
from portal.tenancy.models import Tenant

__all__ = ["Problem"]


def _service(module: str, name: str) -> Any:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    return getattr(mod, name, None)


def parse_policy_text(text: str) -> tuple[dict | None, list[Problem]]:
    return schema.parse_policy_text(text)


def validate_policy(data: dict) -> list[Problem]:
    return schema.validate_policy(data)


def load_policy(tenant: Tenant, data: dict) -> Any:
    """Inside the tenant's scope; raises PolicyInvalid; the caller commits."""
    return policy_services.load_policy(tenant, data)


def export_policy(tenant: Tenant) -> dict:
    return policy_services.export_policy(tenant)


def current_period(today: dt.date | None = None) -> str:
    real = lambda: Period.current().code  # noqa: E731
    if real is not None and today is None:
        return real()
    today = today or dt.date.today()
    return f"{today.year}H{1 if today.month <= 6 else 2}"


def generate_duties(period: str) -> Any:
    """Inside the tenant's scope; the caller commits."""
    real = _service("portal.duties.receivers", "generate_as_system")
    if real is not None:
        return real(period)
    return _fallback_generate(period)


def _period_end(period: str) -> dt.date:
    year, half = int(period[:4]), period[5]
    return dt.date(year, 6, 30) if half == "1" else dt.date(year, 12, 31)


def _fallback_generate(period: str) -> int:
    from portal.duties.models import Duty
    from portal.policy.models import Measure, PolicyVersion, VersionStatus

    end = _period_end(period)
    start = dt.date(end.year, 1 if end.month == 6 else 7, 1)
    versions = (
        db.session.execute(
            sa.select(PolicyVersion).where(
                PolicyVersion.status == VersionStatus.in_force,
                PolicyVersion.effective_from <= end,
            )
        )
        .scalars()
        .all()
    )
    versions = [v for v in versions if v.effective_until is None or v.effective_until >= start]
    if not versions:
        return 0
    version = max(versions, key=lambda v: v.effective_from)
    existing = set(
        db.session.execute(
            sa.select(Duty.department_id, Duty.measure_number).where(Duty.period == period)
        ).all()
    )
    made = 0
    measures = db.session.execute(
        sa.select(Measure).where(Measure.version_id == version.id, Measure.creates_duty.is_(True))
    ).scalars()
    for m in measures:
        for r in m.responsibilities:
            if (r.department_id, m.number) in existing:
                continue
            db.session.add(
                Duty(
                    period=period,
                    department_id=r.department_id,
                    measure_id=m.id,
                    measure_number=m.number,
                    role=r.role,
                    due_date=end,
                )
            )
            existing.add((r.department_id, m.number))
            made += 1
    db.session.flush()
    return made


def problem_text(problem: Problem, locale: str = "zh") -> str:
    """`path: message (line n)` in the wanted language."""
    return problem.text(locale)
