"""Thin bridges to the policy and duties services.

Onboarding needs `validate_policy` / `parse_policy_text` / `load_policy` /
`export_policy` (portal.policy.services) and `current_period` / `generate_duties`
(portal.duties.services). When those modules are present they are used; until then
small fallbacks here keep onboarding working. The fallbacks are deliberately minimal.
"""

from __future__ import annotations

import datetime as dt
import decimal
import importlib
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import yaml

from portal.extensions import db
from portal.tenancy.models import DEPARTMENT_KINDS, Tenant


def _service(module: str, name: str) -> Any:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    return getattr(mod, name, None)


@dataclass
class Problem:
    """Same shape as portal.policy.schema.Problem."""

    path: str
    message_zh: str
    message_en: str
    line: int | None = None


def _line_of(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 if mark is not None else None


def parse_policy_text(text: str) -> tuple[dict | None, list[Any]]:
    real = _service("portal.policy.services", "parse_policy_text") or _service(
        "portal.policy.schema", "parse_policy_text"
    )
    if real is not None:
        return real(text)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        return None, [Problem("", "文件不是有效的 YAML", "the file is not valid YAML", _line_of(e))]
    if not isinstance(data, dict):
        return None, [Problem("", "文件顶层必须是映射", "the top level must be a mapping")]
    return data, validate_policy(data)


def validate_policy(data: dict) -> list[Any]:
    real = _service("portal.policy.services", "validate_policy") or _service(
        "portal.policy.schema", "validate_policy"
    )
    if real is not None:
        return list(real(data))
    return _fallback_validate(data)


def _fallback_validate(data: dict) -> list[Problem]:
    problems: list[Problem] = []

    def need(obj: Any, key: str, path: str) -> Any:
        if not isinstance(obj, dict) or obj.get(key) in (None, ""):
            problems.append(Problem(f"{path}{key}", "必填", "is required"))
            return None
        return obj[key]

    tenant = need(data, "tenant", "")
    for key in ("slug", "name", "level", "province"):
        need(tenant, key, "tenant.")
    kinds = {code for code, _zh, _en in DEPARTMENT_KINDS}
    keys: set[str] = set()
    for i, d in enumerate(need(data, "departments", "") or []):
        if not isinstance(d, dict):
            problems.append(Problem(f"departments[{i}]", "必须是映射", "must be a mapping"))
            continue
        if d.get("kind") not in kinds:
            problems.append(
                Problem(f"departments[{i}].kind", "不是已知的部门类别", "is not a known kind")
            )
        keys.add(str(d.get("key")))
    policy = need(data, "policy", "")
    need(policy, "title", "policy.")
    need(policy, "effective_from", "policy.")
    for i, m in enumerate(need(data, "measures", "") or []):
        for role in ("lead", "cooperating"):
            for k in (m or {}).get(role) or []:
                if k not in keys:
                    problems.append(
                        Problem(f"measures[{i}].{role}", "引用了不存在的部门", "unknown department")
                    )
    return problems


def load_policy(tenant: Tenant, data: dict) -> Any:
    """Inside the tenant's scope; the caller commits."""
    real = _service("portal.policy.services", "load_policy")
    if real is not None:
        return real(tenant, data)
    from portal.policy.loader import apply_policy

    return apply_policy(tenant, data)


def export_policy(tenant: Tenant) -> dict:
    real = _service("portal.policy.services", "export_policy")
    if real is not None:
        return real(tenant)
    return _fallback_export(tenant)


def current_period(today: dt.date | None = None) -> str:
    real = _service("portal.duties.services", "current_period")
    if real is not None and today is None:
        return real()
    today = today or dt.date.today()
    return f"{today.year}H{1 if today.month <= 6 else 2}"


def generate_duties(period: str) -> Any:
    """Inside the tenant's scope; the caller commits."""
    real = _service("portal.duties.services", "generate_duties")
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


def _num(value: decimal.Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _fallback_export(tenant: Tenant) -> dict:
    """The district's configuration in the policy-file format (inside its scope)."""
    from portal.policy.models import MeetingArrangement, PolicyVersion
    from portal.tenancy.models import Department

    departments = (
        db.session.execute(sa.select(Department).order_by(Department.sort_order, Department.key))
        .scalars()
        .all()
    )
    by_id = {d.id: d.key for d in departments}
    version = (
        db.session.execute(
            sa.select(PolicyVersion).order_by(
                PolicyVersion.effective_from.desc(), PolicyVersion.created_at.desc()
            )
        )
        .scalars()
        .first()
    )
    out: dict[str, Any] = {
        "format_version": 1,
        "tenant": {
            "slug": tenant.slug,
            "name": tenant.name,
            "name_en": tenant.name_en,
            "level": tenant.level,
            "province": tenant.province,
        },
        "departments": [{"key": d.key, "kind": d.kind_code, "name": d.name} for d in departments],
    }
    if version is not None:
        policy: dict[str, Any] = {"title": version.title, "doc_number": version.doc_number}
        policy["issuers"] = list(version.issuers or [])
        if version.issued_on:
            policy["issued_on"] = version.issued_on
        policy["effective_from"] = version.effective_from
        if version.effective_until:
            policy["effective_until"] = version.effective_until
        policy["supersedes"] = list(version.supersedes or [])
        policy["status"] = version.status.value
        policy["source"] = version.source
        out["policy"] = policy
        measures = []
        for m in version.measures:
            item: dict[str, Any] = {
                "number": m.number,
                "category": m.category,
                "title": m.title,
                "text": m.text,
                "lead": [by_id[r.department_id] for r in m.responsibilities if r.role == "lead"],
                "cooperating": [
                    by_id[r.department_id] for r in m.responsibilities if r.role == "cooperating"
                ],
            }
            if not m.creates_duty:
                item["duty"] = False
            benefits = []
            for b in m.benefits:
                ben: dict[str, Any] = {"name": b.name, "unit": b.unit, "frequency": b.frequency}
                for key in ("festivals", "funding_split"):
                    if getattr(b, key):
                        ben[key] = list(getattr(b, key))
                if b.amount_is_floor:
                    ben["amount_is_floor"] = True
                for key in ("amount_note", "funding_note", "note", "max_quantity_unit"):
                    if getattr(b, key):
                        ben[key] = getattr(b, key)
                if b.max_quantity is not None:
                    ben["max_quantity"] = b.max_quantity
                if b.hours_per_month is not None:
                    ben["hours_per_month"] = _num(b.hours_per_month)
                if b.eligibility:
                    ben["eligibility"] = dict(b.eligibility)
                ben["values"] = [
                    {
                        "amount": _num(v.amount),
                        "effective_from": v.effective_from,
                        **({"source": v.source} if v.source else {}),
                    }
                    for v in b.values
                ]
                benefits.append(ben)
            item["benefits"] = benefits
            measures.append(item)
        out["measures"] = measures
    arrangement = db.session.execute(sa.select(MeetingArrangement)).scalars().first()
    if arrangement is not None:
        out["meeting"] = {
            "name": arrangement.name,
            "cadence": arrangement.cadence,
            "chief_convener": arrangement.chief_convener,
            "conveners": list(arrangement.conveners or []),
            "office_department": by_id.get(arrangement.office_department_id),
            "member_departments": [
                by_id[int_id]
                for int_id in (_uuid(x) for x in arrangement.member_department_ids or [])
                if int_id in by_id
            ],
            "note": arrangement.note,
        }
    return out


def _uuid(value: Any) -> Any:
    import uuid

    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def problem_text(problem: Any, locale: str = "zh") -> str:
    """`path: message` (line n) in the wanted language."""
    msg = problem.message_en if locale.startswith("en") else problem.message_zh
    where = problem.path or "/"
    line = getattr(problem, "line", None)
    return f"{where}: {msg}" + (f" (line {line})" if line else "")
