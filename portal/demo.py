"""`portal demo`: the four seed districts, their departments and demo users. Idempotent."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
import yaml

from portal import domains
from portal.auth import operations
from portal.auth.models import Role, User
from portal.extensions import db
from portal.kernel.grants import SYSTEM
from portal.policy.loader import apply_policy
from portal.policy.models import PolicyVersion
from portal.tenancy import scope
from portal.tenancy.models import Tenant
from portal.tenancy.services import ensure_department_kinds, upsert_department

TENANTS_DIR = Path(__file__).resolve().parent.parent / "tenants"
DEMO_TENANTS = ("zhangdian", "jiangyan", "jiading", "kaifeng")
DEMO_PASSWORD = "Demo-2026-pass"  # noqa: S105 - printed on purpose for the demo
OPERATOR_USERNAME = "operator"

# The body each district's lead account acts for, named as its document names it (no
# "…联席办" where the document sets up no joint-meeting office). tests/policy checks each
# name against the district's seed document or roster.
LEAD_BODIES = {
    # 四.(一) 区人口与计划生育领导小组 … 组织召开联席会议; first issuer 淄博市张店区卫生健康局
    "zhangdian": "淄博市张店区卫生健康局",
    # 四.(一) 计生特殊家庭全方位帮扶工作联席会议办公室设在区卫健委，承担日常工作
    "jiangyan": "计生特殊家庭全方位帮扶工作联席会议办公室",
    # first issuer; 八. 区卫生健康部门 … 加强领导、协调和推进
    "jiading": "上海市嘉定区卫生健康委员会",
    # 主办：市卫生健康委; 18. 市卫生健康委主任任召集人
    "kaifeng": "开封市卫生健康委员会",
}


def officer_username(slug: str, department_key: str) -> str:
    """The demo's officer of a department, e.g. `kaifeng-civil-affairs`."""
    return f"{slug}-{department_key}".replace("_", "-")


def load_policy_file(slug: str) -> dict:
    return yaml.safe_load((TENANTS_DIR / f"{slug}.yaml").read_text(encoding="utf-8"))


def _ensure_user(username: str, **kw: object) -> None:
    """Through the accounts service, by its rules (the system creates demo accounts)."""
    exists = db.session.execute(sa.select(User.id).filter_by(username=username)).scalar()
    if exists is None:
        operations.create_user(SYSTEM, username=username, password=DEMO_PASSWORD, **kw)  # type: ignore[arg-type]


def _keep_expired_policy(lead_username: str) -> None:
    """张店's policy expired on 2026-01-07: its demo lead has decided, as any lead may on
    the policy page (audited), that the district keeps working to it until a new one is
    loaded, so the demo's current half-year has duties. The pages still say it expired."""
    from portal.kernel import clock
    from portal.policy import services as policy_services

    version = policy_services.latest_version()
    if (
        version is None
        or version.after_expiry
        or version.effective_until is None
        or version.effective_until >= clock.today()
        or policy_services.current_version() is not None
    ):
        return
    lead = db.session.execute(sa.select(User).filter_by(username=lead_username)).scalar_one()
    policy_services.decide_after_expiry(lead, version, keep=True)


def load_demo() -> list[tuple[str, str, str]]:
    """Returns (district, username, role) for every demo login."""
    logins: list[tuple[str, str, str]] = []
    with scope.cross_tenant("demo: reference data and operator"):
        ensure_department_kinds()
        _ensure_user(OPERATOR_USERNAME, display_name="平台运维", role=Role.platform_operator)
        db.session.commit()
    logins.append(("platform", OPERATOR_USERNAME, Role.platform_operator.value))
    for slug in DEMO_TENANTS:
        data = load_policy_file(slug)
        info = data["tenant"]
        with scope.cross_tenant("demo: tenant row"):
            tenant = db.session.execute(sa.select(Tenant).filter_by(slug=slug)).scalar_one_or_none()
            if tenant is None:
                tenant = Tenant(
                    slug=slug,
                    name=info["name"],
                    name_en=info.get("name_en", ""),
                    level=info["level"],
                    province=info["province"],
                )
                db.session.add(tenant)
                db.session.commit()
        with scope.tenant_scope(tenant.id):
            if db.session.execute(sa.select(PolicyVersion.id)).first() is None:
                apply_policy(tenant, data)
            local_kinds = {k["code"] for k in data.get("department_kinds") or []}
            departments = [
                upsert_department(
                    tenant,
                    d["key"],
                    "other" if d["kind"] in local_kinds else d["kind"],
                    d["name"],
                    i,
                )
                for i, d in enumerate(data["departments"])
            ]
            db.session.flush()
            _ensure_user(
                f"{slug}-lead",
                display_name=LEAD_BODIES.get(slug, info["name"]),
                role=Role.district_lead,
                tenant=tenant,
            )
            db.session.flush()
            _keep_expired_policy(f"{slug}-lead")
            _ensure_user(
                f"{slug}-auditor",
                display_name=f"{info['name']}审计",
                role=Role.auditor,
                tenant=tenant,
            )
            logins += [
                (info["name"], f"{slug}-lead", Role.district_lead.value),
                (info["name"], f"{slug}-auditor", Role.auditor.value),
            ]
            for dept in departments:
                username = officer_username(slug, dept.key)
                _ensure_user(
                    username,
                    display_name=f"{dept.name}经办人",
                    role=Role.dept_officer,
                    tenant=tenant,
                    department_id=dept.id,
                )
                logins.append((info["name"], username, Role.dept_officer.value))
            db.session.commit()
            for module in domains.modules("demo"):
                extra = module.load_demo(tenant, data)  # a domain may add demo logins
                db.session.commit()
                logins += extra or []
    return logins
