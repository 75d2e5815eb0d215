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


CATEGORIES = {
    "economic_aid", "medical", "elderly_care", "rebirth", "housing", "legal_aid",
    "emotional_support", "funeral", "education", "employment", "contact_person", "publicity",
    "insurance", "social_care", "rehabilitation", "organisation", "other",
}  # fmt: skip
UNITS = {
    "yuan_per_person_month", "yuan_per_person_year", "yuan_per_person_day",
    "yuan_per_person_time", "yuan_per_person", "yuan_per_household_month",
    "yuan_per_household_year", "yuan_per_household_time", "yuan_per_household",
    "yuan_per_couple", "yuan_per_hour", "yuan_per_time", "yuan_per_month", "yuan_per_year",
}  # fmt: skip
FREQUENCIES = {"one_off", "monthly", "quarterly", "yearly", "daily", "per_event", "festival"}
CADENCES = {"semiannual", "quarterly", "yearly", "ad_hoc"}
LEVELS = {"区", "县", "市"}


def _is_date(value: Any) -> bool:
    if isinstance(value, dt.date):
        return True
    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def _fallback_validate(data: dict) -> list[Problem]:
    """Structure, references and allowed values of docs/policy-format.md (interim)."""
    problems: list[Problem] = []

    def bad(path: str, zh: str, en: str) -> None:
        problems.append(Problem(path, zh, en))

    def need(obj: Any, key: str, path: str) -> Any:
        if not isinstance(obj, dict) or obj.get(key) in (None, ""):
            bad(f"{path}{key}", "必填", "is required")
            return None
        return obj[key]

    if data.get("format_version") != 1:
        bad("format_version", "必须为 1", "must be 1")
    tenant = need(data, "tenant", "")
    for key in ("slug", "name", "level", "province"):
        need(tenant, key, "tenant.")
    if isinstance(tenant, dict) and tenant.get("level") and tenant["level"] not in LEVELS:
        bad("tenant.level", "必须是 区、县 或 市", "must be 区, 县 or 市")
    kinds = {code for code, _zh, _en in DEPARTMENT_KINDS}
    keys: set[str] = set()
    for i, d in enumerate(need(data, "departments", "") or []):
        path = f"departments[{i}]"
        if not isinstance(d, dict):
            bad(path, "必须是映射", "must be a mapping")
            continue
        key = need(d, "key", f"{path}.")
        need(d, "name", f"{path}.")
        if key in keys:
            bad(f"{path}.key", f"引用名 {key} 重复", f"the key {key} is used twice")
        keys.add(str(key))
        if d.get("kind") not in kinds:
            bad(f"{path}.kind", "不是已知的部门类别", "is not a known department kind")
    policy = need(data, "policy", "")
    need(policy, "title", "policy.")
    if need(policy, "effective_from", "policy.") is not None and not _is_date(
        policy["effective_from"]
    ):
        bad("policy.effective_from", "必须是 YYYY-MM-DD 日期", "must be a YYYY-MM-DD date")
    for key in ("issued_on", "effective_until"):
        if isinstance(policy, dict) and policy.get(key) is not None and not _is_date(policy[key]):
            bad(f"policy.{key}", "必须是 YYYY-MM-DD 日期", "must be a YYYY-MM-DD date")
    if isinstance(policy, dict) and policy.get("status", "in_force") not in ("in_force", "draft"):
        bad("policy.status", "必须是 in_force 或 draft", "must be in_force or draft")
    numbers: set[str] = set()
    for i, m in enumerate(need(data, "measures", "") or []):
        path = f"measures[{i}]"
        if not isinstance(m, dict):
            bad(path, "必须是映射", "must be a mapping")
            continue
        number = need(m, "number", f"{path}.")
        need(m, "title", f"{path}.")
        if number is not None and str(number) in numbers:
            bad(f"{path}.number", f"编号 {number} 重复", f"the number {number} is used twice")
        numbers.add(str(number))
        if m.get("category") not in CATEGORIES:
            bad(f"{path}.category", "不是已知的措施类别", "is not a known category")
        for role in ("lead", "cooperating"):
            for j, k in enumerate(m.get(role) or []):
                if k not in keys:
                    bad(f"{path}.{role}[{j}]", f"部门 {k} 未定义", f"department {k} is not defined")
        for j, b in enumerate(m.get("benefits") or []):
            bpath = f"{path}.benefits[{j}]"
            if not isinstance(b, dict):
                bad(bpath, "必须是映射", "must be a mapping")
                continue
            need(b, "name", f"{bpath}.")
            if b.get("unit") not in UNITS:
                bad(f"{bpath}.unit", "不是已知的单位", "is not a known unit")
            if b.get("frequency") not in FREQUENCIES:
                bad(f"{bpath}.frequency", "不是已知的频次", "is not a known frequency")
            values = b.get("values") or []
            if not values:
                bad(f"{bpath}.values", "至少需要一个金额", "needs at least one amount")
            for k, v in enumerate(values):
                vpath = f"{bpath}.values[{k}]"
                amount = v.get("amount") if isinstance(v, dict) else None
                if not isinstance(amount, int | float) or isinstance(amount, bool) or amount <= 0:
                    bad(f"{vpath}.amount", "必须为正数", "must be a positive number")
                if not isinstance(v, dict) or not _is_date(v.get("effective_from")):
                    bad(f"{vpath}.effective_from", "必须是 YYYY-MM-DD 日期", "must be a date")
    meeting = data.get("meeting")
    if isinstance(meeting, dict):
        if meeting.get("cadence") is not None and meeting["cadence"] not in CADENCES:
            bad("meeting.cadence", "不是已知的会议周期", "is not a known cadence")
        office = meeting.get("office_department")
        if office is not None and office not in keys:
            bad("meeting.office_department", f"部门 {office} 未定义", f"{office} is not defined")
        for j, k in enumerate(meeting.get("member_departments") or []):
            if k not in keys:
                bad(f"meeting.member_departments[{j}]", f"部门 {k} 未定义", f"{k} is not defined")
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
