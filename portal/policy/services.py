"""Policy rules shared by the UI, the JSON API, the CLI and onboarding.

- `parse_policy_text` / `validate_policy`: every problem of a policy file (see schema.py, policy_text.py);
- `load_policy`: validate completely, then write (the caller commits: one transaction);
- `export_policy`: the tenant's configuration in the same file format; export → load →
  export gives the identical document;
- `current_version` / `latest_version`: which policy version applies;
- `update_measure` / `add_benefit_value`: the district lead's edits (audited by the ORM
  capture; a benefit value is never overwritten, a change is a new dated value);
- `adopt_draft`: the lead adopts a draft for comment so that it creates duties.

Services never commit: the request (`portal.kernel.uow`) or the CLI's
`cli_transaction` commits once. Errors are kernel `RuleError`s.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.kernel import clock
from portal.kernel.grants import require
from portal.kernel.rules import ConflictError, RuleError
from portal.kernel.rules import flush as flush_or_conflict
from portal.policy import rules
from portal.policy.codes import CATEGORIES, MAX_AMOUNT
from portal.policy.loader import apply_policy
from portal.policy.models import (
    BenefitStandard,
    BenefitValue,
    Measure,
    MeasureResponsibility,
    MeetingArrangement,
    PolicyVersion,
    ResponsibilityRole,
    VersionStatus,
)
from portal.policy.policy_text import parse_policy_text  # re-exported: the public API
from portal.policy.problems import PolicyInvalid, Problem, to_date, to_decimal
from portal.policy.schema import validate_policy
from portal.tenancy import scope
from portal.tenancy.models import Department, Tenant

__all__ = [
    "PolicyInvalid",
    "Problem",
    "add_benefit_value",
    "adopt_draft",
    "current_version",
    "export_policy",
    "latest_version",
    "load_policy",
    "parse_policy_text",
    "update_measure",
    "validate_policy",
]

EXPIRY_WARNING_DAYS = 90


def load_policy(tenant: Tenant, data: dict) -> PolicyVersion:
    """Validate the whole file, then write departments, a new version and the meeting.

    Raises `PolicyInvalid(problems)` before anything is written. Does not commit: the
    caller commits once (onboarding creates the tenant, policy and duties together).
    """
    problems = validate_policy(data)
    if problems:
        raise PolicyInvalid(problems)
    if scope.current().tenant_id == tenant.id:
        return apply_policy(tenant, data)
    with scope.tenant_scope(tenant.id):
        return apply_policy(tenant, data)


def _versions() -> list[PolicyVersion]:
    return list(
        db.session.execute(
            sa.select(PolicyVersion).order_by(
                PolicyVersion.effective_from, PolicyVersion.created_at, PolicyVersion.id
            )
        )
        .scalars()
        .all()
    )


def current_version(
    day: dt.date | None = None, versions: list[PolicyVersion] | None = None
) -> PolicyVersion | None:
    """The in-force version covering `day` (the latest issued one if several); None if none.

    Inside a tenant's scope. A draft (征求意见稿) or an expired version is not current.
    """
    day = day or clock.today()
    candidates = [
        v
        for v in (_versions() if versions is None else versions)
        if v.status != VersionStatus.draft and v.in_force_on(day)
    ]
    return candidates[-1] if candidates else None


def latest_version() -> PolicyVersion | None:
    """The most recent version whatever its status or dates (what the policy page shows)."""
    versions = _versions()
    return versions[-1] if versions else None


@dataclass(frozen=True)
class ExpiryWarning:
    version: PolicyVersion | None
    expired: bool
    days_left: int | None  # None when there is no version at all


def expiry_warning(day: dt.date | None = None) -> ExpiryWarning | None:
    """A warning when the policy has expired, expires within 90 days, or is missing."""
    day = day or clock.today()
    versions = _versions()
    version = current_version(day, versions)
    if version is None:
        latest = versions[-1] if versions else None
        expired = (
            latest is not None
            and latest.status != VersionStatus.draft
            and latest.effective_until is not None
            and latest.effective_until < day
        )
        return ExpiryWarning(latest, expired=expired, days_left=None)
    if version.effective_until is None:
        return None
    left = (version.effective_until - day).days
    if left <= EXPIRY_WARNING_DAYS:
        return ExpiryWarning(version, expired=False, days_left=left)
    return None


# -- export ---------------------------------------------------------------------------


def _num(value: decimal.Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def load_version(version_id: uuid.UUID) -> PolicyVersion | None:
    """A version with its measures, responsibilities, benefits and values in 5 queries."""
    return (
        db.session.execute(
            sa.select(PolicyVersion)
            .where(PolicyVersion.id == version_id)
            .options(
                selectinload(PolicyVersion.measures).selectinload(Measure.responsibilities),
                selectinload(PolicyVersion.measures)
                .selectinload(Measure.benefits)
                .selectinload(BenefitStandard.values),
            )
        )
        .scalars()
        .first()
    )


def export_benefit(b: BenefitStandard) -> dict[str, Any]:
    out: dict[str, Any] = {"name": b.name, "unit": b.unit, "frequency": b.frequency}
    if b.festivals:
        out["festivals"] = list(b.festivals)
    if b.amount_is_floor:
        out["amount_is_floor"] = True
    if b.amount_note:
        out["amount_note"] = b.amount_note
    if b.max_quantity is not None:
        out["max_quantity"] = b.max_quantity
    if b.max_quantity_unit:
        out["max_quantity_unit"] = b.max_quantity_unit
    if b.hours_per_month is not None:
        out["hours_per_month"] = _num(b.hours_per_month)
    if b.eligibility:
        out["eligibility"] = dict(b.eligibility)
    if b.funding_split:
        out["funding_split"] = [dict(s) for s in b.funding_split]
    if b.funding_split_applies_to:
        out["funding_split_applies_to"] = b.funding_split_applies_to
    if b.funding_note:
        out["funding_note"] = b.funding_note
    out["values"] = [
        {
            "amount": _num(v.amount),
            **(
                {"effective_from": v.effective_from}
                if v.effective_from is not None
                else {"in_force_before": v.in_force_before}
            ),
            **({"source": v.source} if v.source else {}),
        }
        for v in sorted(b.values, key=lambda v: v.effective_from or dt.date.min)
    ]
    if b.note:
        out["note"] = b.note
    if b.entitlement:
        out["entitlement"] = dict(b.entitlement)
    return out


def export_measure(m: Measure, keys: dict[uuid.UUID, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"number": m.number}
    if (m.clause or "measure") != "measure":
        out["clause"] = m.clause
    out.update({"category": m.category, "title": m.title, "text": m.text})
    taken = m.lead_from_document  # the document-wide lead: written back as "names none"
    out["lead"] = [
        keys[r.department_id]
        for r in m.responsibilities
        if r.role == ResponsibilityRole.lead and not taken
    ]
    out["cooperating"] = [
        keys[r.department_id]
        for r in m.responsibilities
        if r.role == ResponsibilityRole.cooperating and not taken
    ]
    if not m.creates_duty and (m.clause or "measure") == "measure":
        out["duty"] = False
    out["benefits"] = [export_benefit(b) for b in m.benefits]
    if m.inferred:
        out["inferred"] = dict(m.inferred)
    return out


def export_policy(tenant: Tenant) -> dict[str, Any]:
    """The tenant's configuration in the policy-file format (docs/policy-format.md).

    Exports the latest version; departments in their order. Runs in the tenant's scope.
    """
    if scope.current().tenant_id != tenant.id:
        with scope.tenant_scope(tenant.id):
            return export_policy(tenant)
    departments = (
        db.session.execute(
            sa.select(Department)
            .where(Department.active.is_(True))
            .order_by(Department.sort_order, Department.key)
        )
        .scalars()
        .all()
    )
    all_keys = {d.id: d.key for d in db.session.execute(sa.select(Department)).scalars().all()}
    latest = latest_version()
    version = load_version(latest.id) if latest is not None else None
    local = {
        key: k["code"]
        for k in (version.department_kinds if version else [])
        for key in k["departments"]
    }
    out: dict[str, Any] = {
        "format_version": 1,
        "tenant": {
            "slug": tenant.slug,
            "name": tenant.name,
            **({"name_en": tenant.name_en} if tenant.name_en else {}),
            "level": tenant.level,
            "province": tenant.province,
        },
    }
    if version is not None and version.department_kinds:
        out["department_kinds"] = [
            {k: v for k, v in kind.items() if k != "departments"}
            for kind in version.department_kinds
        ]
    out["departments"] = [
        {"key": d.key, "kind": local.get(d.key, d.kind_code), "name": d.name} for d in departments
    ]
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
        if version.lead_department_key:
            policy["lead_department"] = version.lead_department_key
        if version.member_department_keys:
            policy["member_departments"] = list(version.member_department_keys)
        if version.inferred:
            policy["inferred"] = dict(version.inferred)
        out["policy"] = policy
        out["measures"] = [export_measure(m, all_keys) for m in version.measures]
    arrangement = db.session.execute(sa.select(MeetingArrangement)).scalars().first()
    if arrangement is not None:
        members = []
        for raw in arrangement.member_department_ids or []:
            key = all_keys.get(uuid.UUID(str(raw)))
            if key:
                members.append(key)
        meeting: dict[str, Any] = {"name": arrangement.name}
        if arrangement.cadence:
            meeting["cadence"] = arrangement.cadence
        if arrangement.chief_convener:
            meeting["chief_convener"] = arrangement.chief_convener
        meeting["conveners"] = list(arrangement.conveners or [])
        office = all_keys.get(arrangement.office_department_id)  # type: ignore[arg-type]
        if office:
            meeting["office_department"] = office
        meeting["member_departments"] = members
        if arrangement.note:
            meeting["note"] = arrangement.note
        if arrangement.inferred:
            meeting["inferred"] = dict(arrangement.inferred)
        out["meeting"] = meeting
    if version is not None and version.care:
        out["care"] = dict(version.care)
    return out


# -- the district lead's edits ----------------------------------------------------------


class PolicyEditError(RuleError):
    """Field-level problems with an edit: {field: message (translated)}."""

    code = "invalid"
    status = 422

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        field, message = next(iter(errors.items()))
        super().__init__(message, field=field)


class EditConflict(ConflictError):
    """Someone else saved the measure since this form was loaded."""

    def __init__(self) -> None:
        from flask_babel import lazy_gettext as _l

        super().__init__(
            _l(
                "Someone else changed this measure while you were editing. Your changes "
                "were not saved; the form below shows the current version."
            )
        )


def update_measure(
    measure: Measure,
    *,
    title: str,
    text: str,
    category: str,
    lead: list[str],
    cooperating: list[str],
    row_version: int,
) -> Measure:
    """Change a measure's wording, category and responsible departments (flushes, no commit)."""
    from flask_babel import gettext as _

    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = _("Title is required.")
    elif len(title) > 200:
        errors["title"] = _("Title must be at most 200 characters.")
    if category not in CATEGORIES:
        errors["category"] = _("Choose a category from the list.")
    departments = {str(d.id): d for d in db.session.execute(sa.select(Department)).scalars().all()}
    lead = [x for x in dict.fromkeys(lead) if x]
    cooperating = [x for x in dict.fromkeys(cooperating) if x and x not in lead]
    unknown = [x for x in lead + cooperating if x not in departments]
    if unknown:
        errors["lead" if set(unknown) & set(lead) else "cooperating"] = _(
            "Choose departments of this district."
        )
    if measure.creates_duty and not lead and not cooperating:
        errors["lead"] = _("A measure that creates duties needs at least one department.")
    if errors:
        raise PolicyEditError(errors)
    if row_version != measure.row_version:  # required: the view sends -1 for a missing one
        raise EditConflict()

    measure.title = title
    measure.text = (text or "").replace("\r\n", "\n")
    measure.category = category
    wanted = [(k, ResponsibilityRole.lead) for k in lead]
    wanted += [(k, ResponsibilityRole.cooperating) for k in cooperating]
    current = {str(r.department_id): r for r in measure.responsibilities}
    keep_ids = {k for k, _role in wanted}
    for key, r in list(current.items()):
        if key not in keep_ids:
            measure.responsibilities.remove(r)
    for position, (key, role) in enumerate(wanted):
        r = current.get(key)
        if r is None:
            measure.responsibilities.append(
                MeasureResponsibility(
                    department_id=departments[key].id, role=role, position=position
                )
            )
        else:
            if r.role != role:
                r.role = role
            if r.position != position:
                r.position = position
    if measure.lead_from_document:
        # The lead saved the departments: the measure no longer takes the document's lead.
        measure.lead_from_document = False
    flush_or_conflict(EditConflict)
    return measure


def add_benefit_value(
    benefit: BenefitStandard, *, amount: Any, effective_from: Any, source: str
) -> BenefitValue:
    """A new dated amount; an existing value is never changed (flushes, no commit)."""
    from flask_babel import gettext as _

    errors: dict[str, str] = {}
    value = to_decimal(amount)
    if value is None:
        errors["amount"] = _("Enter the amount as a number in yuan.")
    elif value <= 0:
        errors["amount"] = _("The amount must be a positive number.")
    elif value > MAX_AMOUNT or value != value.quantize(decimal.Decimal("0.01")):
        errors["amount"] = _("The amount may have at most two decimal places and 10 digits.")
    day = effective_from if isinstance(effective_from, dt.date) else to_date(effective_from or "")
    if day is None:
        errors["effective_from"] = _("Enter the date as YYYY-MM-DD.")
    elif any(v.effective_from == day for v in benefit.values):
        errors["effective_from"] = _(
            "A value from this date already exists; values are never overwritten — choose another date."
        )
    source = (source or "").strip()
    if not source:
        errors["source"] = _("Name the document that sets this amount.")
    elif len(source) > 200:
        errors["source"] = _("The source must be at most 200 characters.")
    if errors:
        raise PolicyEditError(errors)
    row = BenefitValue(benefit_id=benefit.id, amount=value, effective_from=day, source=source)
    db.session.add(row)
    db.session.flush()
    db.session.refresh(benefit, ["values"])
    return row


def adopt_draft(user: Any, version: PolicyVersion) -> PolicyVersion:
    """The district lead adopts a draft for comment: from now on it creates duties.

    Audited (the ORM capture records the change, with who and when). Refused for a
    version that is not a draft or is adopted already.
    """
    from flask_babel import lazy_gettext as _l

    require(user, "district.configure")
    if version.status != VersionStatus.draft:
        raise RuleError(_l("Only a draft for comment needs adopting."))
    if version.adopted_at is not None:
        raise ConflictError(_l("This draft has been adopted already."))
    version.adopted_at = clock.now().replace(tzinfo=None)
    version.adopted_by = str(getattr(user, "username", "") or getattr(user, "name", "") or user)
    db.session.flush()
    return version


def decide_after_expiry(user: Any, version: PolicyVersion, keep: bool) -> PolicyVersion:
    """The district lead decides whether the district keeps working to an expired policy.

    With `keep` it creates the duties of the half-years after its end until a new
    version is loaded; without, it creates none (policy.rules.generates_duties_for).
    Audited (the ORM capture records the change, with who and when). Refused for a
    draft, a version that has not expired, one that a newer version replaces, and a
    decision that is already the recorded one.
    """
    from flask_babel import lazy_gettext as _l

    require(user, "district.configure")
    today = clock.today()
    if (
        version.status == VersionStatus.draft
        or version.effective_until is None
        or version.effective_until >= today
    ):
        raise RuleError(_l("Only a policy that has expired needs this decision."))
    if current_version(today) is not None:
        raise RuleError(_l("A newer policy is in force; the expired one needs no decision."))
    wanted = rules.CONTINUE if keep else rules.STOP
    if version.after_expiry == wanted:
        raise ConflictError(_l("This decision has been recorded already."))
    version.after_expiry = wanted
    version.after_expiry_decided_at = clock.now().replace(tzinfo=None)
    version.after_expiry_decided_by = str(
        getattr(user, "username", "") or getattr(user, "name", "") or user
    )
    db.session.flush()
    return version


def creates_duties(version: PolicyVersion | None) -> bool:
    """Re-exported rule (portal.policy.rules.generates_duties) for templates and callers."""
    return rules.generates_duties(version)
