"""Onboarding a district from a policy file: validate, preview, then create it all at once.

`preview()` never writes. `onboard()` creates the tenant, its departments, policy,
meeting arrangement, current-period duties and the district lead's account in ONE
transaction: any failure rolls everything back, so nothing is half-created.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from portal.auth import operations
from portal.auth.models import User
from portal.auth.operations import USERNAME_RE, temporary_password  # noqa: F401 - re-exported
from portal.extensions import db
from portal.kernel import signals
from portal.kernel.grants import LEAD, SYSTEM
from portal.kernel.periods import Period
from portal.platform.lifecycle import record_platform, set_status
from portal.policy import policy_text
from portal.policy import services as policy_services
from portal.policy.codes import LEVELS
from portal.policy.problems import Problem
from portal.tenancy import scope
from portal.tenancy.models import Tenant, TenantStatus
from portal.tenancy.services import ensure_department_kinds, tenant_by_slug

TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "tenants"
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
MAX_POLICY_BYTES = 2 * 1024 * 1024


class OnboardingRefused(ValueError):
    """The file has problems (or the slug/username is taken); nothing was created."""

    def __init__(self, problems: list[Any]) -> None:
        super().__init__("; ".join(problem_text(p, "en") for p in problems))
        self.problems = problems


@dataclass
class Preview:
    data: dict | None
    problems: list[Any]
    slug: str = ""
    lead_username: str = ""
    departments: list[dict] = field(default_factory=list)
    measures: list[dict] = field(default_factory=list)
    benefits: list[dict] = field(default_factory=list)
    meeting: dict | None = None
    # Not errors: things the operator should see before confirming (a duplicate name).
    warnings: list[Any] = field(default_factory=list)
    name: str = ""
    level: str = ""

    @property
    def ok(self) -> bool:
        return self.data is not None and not self.problems


@dataclass
class OnboardResult:
    tenant: Tenant
    lead_username: str
    temporary_password: str
    duties: int


def templates() -> list[tuple[str, str]]:
    """(file stem, district name) of every template in tenants/."""
    out = []
    for path in sorted(TEMPLATES_DIR.glob("*.yaml")):
        try:
            name = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("tenant", {})
            out.append((path.stem, str(name.get("name", path.stem))))
        except (yaml.YAMLError, AttributeError):
            continue
    return out


def template_text(stem: str) -> str:
    if stem not in {s for s, _ in templates()}:
        raise KeyError(stem)
    return (TEMPLATES_DIR / f"{stem}.yaml").read_text(encoding="utf-8")


def problem_text(problem: Problem, locale: str = "zh") -> str:
    """`path: message (line n)` in the wanted language."""
    return problem.text(locale)


def _first_value(b: dict) -> Any:
    values = b.get("values") or []
    return values[-1].get("amount") if values and isinstance(values[-1], dict) else None


def is_slug_problem(problem: Problem, lead_username_given: bool = False) -> bool:
    """A problem the operator fixes by typing another slug (not by editing the file).

    The lead's username follows the slug (`<slug>-lead`) unless it was typed.
    """
    return problem.path == "tenant.slug" or (
        problem.path == "lead_username" and not lead_username_given
    )


def template_defaults(text: str) -> dict[str, str]:
    """The template's own name, slug and level (what the prompts offer as defaults)."""
    try:
        info = (yaml.safe_load(text) or {}).get("tenant") or {}
    except (yaml.YAMLError, AttributeError):
        return {"name": "", "slug": "", "level": ""}
    if not isinstance(info, dict):
        info = {}
    return {k: str(info.get(k) or "") for k in ("name", "slug", "level")}


def level_choices() -> tuple[str, ...]:
    """The administrative levels a district may have (the schema's list)."""
    return LEVELS


def _duplicate_name(name: str, slug: str) -> Tenant | None:
    """Another (not purged) district already called `name`."""
    with scope.cross_tenant("onboarding: is the district name used"):
        return db.session.execute(
            sa.select(Tenant)
            .where(Tenant.name == name, Tenant.slug != slug)
            .where(Tenant.status != TenantStatus.purged)
            .limit(1)
        ).scalar_one_or_none()


def preview(
    text: str,
    slug: str | None = None,
    lead_username: str | None = None,
    *,
    name: str | None = None,
    level: str | None = None,
) -> Preview:
    """Parse and validate a policy file and summarise what onboarding would create.

    `slug`, `name` and `level` replace the file's `tenant` values: a template describes
    one district, and a new district made from it needs its own name, slug and level.
    """
    if len(text.encode("utf-8")) > MAX_POLICY_BYTES:
        return Preview(None, [Problem("", "文件过大（上限 2 MB）", "the file is too large (2 MB)")])
    data, problems = policy_text.parse_policy_text(text)
    problems = list(problems)
    if data is None:
        return Preview(None, problems)
    data = copy.deepcopy(data)
    tenant_info = data.get("tenant") if isinstance(data.get("tenant"), dict) else None
    if tenant_info is not None:
        if name and name.strip():
            tenant_info["name"] = name.strip()[:100]
        if level and level.strip():
            tenant_info["level"] = level.strip()
            if tenant_info["level"] not in LEVELS:
                problems.append(
                    Problem(
                        "tenant.level",
                        f"级别应为以下之一：{'、'.join(LEVELS)}",
                        f"the level must be one of: {', '.join(LEVELS)}",
                    )
                )
    if slug:
        slug = slug.strip()
        if tenant_info is not None:
            tenant_info["slug"] = slug
    else:
        slug = str(tenant_info.get("slug") or "") if tenant_info else ""
    if slug and not SLUG_RE.match(slug):
        problems.append(
            Problem(
                "tenant.slug",
                "标识只能由小写字母、数字和 - 组成，2–40 个字符",
                "the slug may only hold lower-case letters, digits and -, 2–40 characters",
            )
        )
    lead_username = (lead_username or "").strip() or (f"{slug}-lead" if slug else "")
    if lead_username and not USERNAME_RE.match(lead_username):
        problems.append(
            Problem(
                "lead_username",
                "用户名只能由字母、数字和 . _ - 组成，3–80 个字符",
                "the username may only hold letters, digits and . _ -, 3–80 characters",
            )
        )
    with scope.cross_tenant("onboarding: is the username free"):
        if slug and tenant_by_slug(slug) is not None:
            problems.append(
                Problem(
                    "tenant.slug",
                    f"标识 {slug} 已被使用，请换一个",
                    f"the slug {slug} is already taken; choose another",
                )
            )
        if (
            lead_username
            and db.session.execute(sa.select(User.id).filter_by(username=lead_username)).first()
        ):
            problems.append(
                Problem(
                    "lead_username",
                    f"用户名 {lead_username} 已存在",
                    f"the username {lead_username} already exists",
                )
            )
    result = Preview(data, problems, slug=slug, lead_username=lead_username)
    if tenant_info is not None:
        result.name = str(tenant_info.get("name") or "")
        result.level = str(tenant_info.get("level") or "")
        other = _duplicate_name(result.name, slug) if result.name else None
        if other is not None:
            result.warnings.append(
                Problem(
                    "tenant.name",
                    f"已有同名区县“{other.name}”（标识 {other.slug}）；如是另一个区县，请改写名称",
                    f"a district named “{other.name}” already exists (slug {other.slug}); "
                    "if this is another district, change the name",
                )
            )
    _summarise(result, data)
    return result


def _summarise(result: Preview, data: dict) -> None:
    from portal.tenancy.models import DEPARTMENT_KINDS

    kinds = {code: (zh, en) for code, zh, en in DEPARTMENT_KINDS}
    depts = data.get("departments")
    if isinstance(depts, list):
        result.departments = [
            {**d, "kind_label": kinds.get(str(d.get("kind")), ("", ""))}
            for d in depts
            if isinstance(d, dict)
        ]
    names = {d.get("key"): d.get("name") for d in result.departments}
    for m in data.get("measures") or []:
        if not isinstance(m, dict):
            continue
        benefits = [b for b in (m.get("benefits") or []) if isinstance(b, dict)]
        result.measures.append(
            {
                "number": m.get("number"),
                "title": m.get("title"),
                "category": m.get("category"),
                "lead": [names.get(k, k) for k in m.get("lead") or []],
                "cooperating": [names.get(k, k) for k in m.get("cooperating") or []],
                "benefits": len(benefits),
                "duty": m.get("duty", True),
            }
        )
        for b in benefits:
            result.benefits.append(
                {
                    "measure": m.get("number"),
                    "name": b.get("name"),
                    "unit": b.get("unit"),
                    "frequency": b.get("frequency"),
                    "amount": _first_value(b),
                    "floor": bool(b.get("amount_is_floor")),
                }
            )
    meeting = data.get("meeting")
    if isinstance(meeting, dict):
        from portal.policy.labels import cadence_label

        result.meeting = {
            **meeting,
            "cadence_label": cadence_label(meeting.get("cadence")),
            "office_department": names.get(
                meeting.get("office_department"), meeting.get("office_department")
            ),
            "member_departments": [
                names.get(k, k) for k in meeting.get("member_departments") or []
            ],
        }


def onboard(
    text: str,
    slug: str | None = None,
    lead_username: str | None = None,
    lead_name: str | None = None,
    *,
    name: str | None = None,
    level: str | None = None,
) -> OnboardResult:
    """Validate again, then create everything in one transaction (raises OnboardingRefused)."""
    checked = preview(text, slug, lead_username, name=name, level=level)
    if not checked.ok:
        raise OnboardingRefused(checked.problems or [Problem("", "无法读取", "cannot be read")])
    data = checked.data
    assert data is not None
    info = data["tenant"]
    try:
        with scope.cross_tenant("onboarding: create tenant"):
            ensure_department_kinds()
            tenant = Tenant(
                slug=checked.slug,
                name=info["name"],
                name_en=info.get("name_en") or "",
                level=info["level"],
                province=info["province"],
                status=TenantStatus.provisioning,
            )
            db.session.add(tenant)
            db.session.flush()
            record_platform(
                "tenant_onboarding",
                tenant,
                {"departments": len(checked.departments), "measures": len(checked.measures)},
            )
        with scope.tenant_scope(tenant.id):
            version = policy_services.load_policy(tenant, data)
            signals.tenant_onboarded.send(tenant, version=version, actor=SYSTEM)
            lead = operations.create_user(
                SYSTEM,
                username=checked.lead_username,
                display_name=lead_name or info["name"],
                role=LEAD,
                tenant=tenant,
                action="lead_account_created",
            )
        with scope.cross_tenant("onboarding: activate tenant"):
            from portal.platform.services import domain_statistics

            period = Period.current().code
            duties = int(domain_statistics([tenant.id]).get(tenant.id, {}).get("duties_total", 0))
            set_status(
                tenant,
                TenantStatus.active,
                data={"lead": checked.lead_username, "duties": duties, "period": period},
            )
            tenant.status_changed_at = tenant.created_at
            db.session.flush()
    except Exception as e:
        db.session.rollback()  # nothing half-created stays in the session (not a commit)
        if getattr(e, "problems", None):  # the policy loader's own PolicyInvalid
            raise OnboardingRefused(list(e.problems)) from e  # type: ignore[attr-defined]
        raise
    return OnboardResult(tenant, checked.lead_username, lead.temporary_password or "", duties)
