"""Operator endpoints of the JSON API: tenant list with health counts, onboarding, lifecycle."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _

from portal.api import ApiError, api_requires, bp, json_body, page_args
from portal.kernel.periods import Period
from portal.platform import onboarding, services
from portal.tenancy.models import TenantStatus


def tenant_json(row: services.TenantRow) -> dict:
    t = row.tenant
    return {
        "slug": t.slug,
        "name": t.name,
        "province": t.province,
        "level": t.level,
        "status": t.status.value,
        "status_changed_at": t.status_changed_at.isoformat(),
        "departments": row.departments,
        "users": row.users,
        "completion": {
            "period": Period.current().code,
            "accepted": row.duties_accepted,
            "total": row.duties_total,
        },
        "last_sign_in": row.last_sign_in.isoformat() if row.last_sign_in else None,
        "last_joint_meeting": row.last_meeting.isoformat() if row.last_meeting else None,
        "policy_in_force": row.has_policy,
        "policy_valid_until": row.policy_until.isoformat() if row.policy_until else None,
    }


def _page_args() -> tuple[int, int]:
    return page_args()


@bp.get("/platform/tenants")
@api_requires("platform.console")
def platform_tenants() -> Any:
    page, per_page = _page_args()
    status_arg = request.args.get("status", "")
    if status_arg and status_arg not in TenantStatus.__members__:
        raise ApiError(400, "bad_status", _("Unknown status %(s)s.", s=status_arg[:30]))
    rows, total = services.tenant_page(
        search=request.args.get("q", "")[:100],
        status=TenantStatus(status_arg) if status_arg else None,
        page=page,
        per_page=per_page,
    )
    return jsonify(
        {
            "items": [tenant_json(r) for r in rows],
            "page": page,
            "per_page": per_page,
            "total": total,
        }
    )


def _row(slug: str) -> services.TenantRow:
    tenant = services.tenant_by_slug(slug)
    if tenant is None:
        raise ApiError(404, "not_found", _("The page or record was not found."))
    return next(r for r in services.tenant_overview(search=slug) if r.tenant.id == tenant.id)


@bp.get("/platform/tenants/<tenant_slug>")
@api_requires("platform.console")
def platform_tenant(tenant_slug: str) -> Any:
    return jsonify(tenant_json(_row(tenant_slug)))


@bp.post("/platform/tenants/<tenant_slug>/status")
@api_requires("tenant.manage")
def platform_tenant_status(tenant_slug: str) -> Any:
    """{"action": "suspend"|"resume"|"activate"|"delete"|"restore", "reason": "…"}."""
    body = json_body()
    row = _row(tenant_slug)
    action = body.get("action")
    if action not in services.ACTIONS:
        raise ApiError(
            400,
            "bad_action",
            _("action must be one of: activate, resume, suspend, delete, restore."),
        )
    if row.tenant.status not in services.ACTIONS[action][0]:
        raise ApiError(
            409, "lifecycle", _("This change is not possible in the district's current state.")
        )
    services.apply_action(row.tenant, action, str(body.get("reason", ""))[:200])
    return jsonify(tenant_json(_row(tenant_slug)))


@bp.post("/platform/tenants")
@api_requires("tenant.manage")
def platform_onboard() -> Any:
    """{"policy": "<policy file text>", "name"?, "slug"?, "level"?, "lead_username"?,
    "lead_name"?} → 201 (name, slug and level replace the file's, as from a template)."""
    body = json_body()
    text = body.get("policy")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "bad_policy", _("policy must hold the policy file's text."))
    opt = {
        k: (str(body[k]) if body.get(k) else None)
        for k in ("name", "slug", "level", "lead_username", "lead_name")
    }
    try:
        result = onboarding.onboard(
            text,
            opt["slug"],
            opt["lead_username"],
            opt["lead_name"],
            name=opt["name"],
            level=opt["level"],
        )
    except onboarding.OnboardingRefused as e:
        return jsonify(
            {
                "error": {
                    "code": "invalid_policy",
                    "message": _("The policy file has problems; nothing was created."),
                    "problems": [
                        {
                            "path": p.path,
                            "message_zh": p.message_zh,
                            "message_en": p.message_en,
                            "line": getattr(p, "line", None),
                        }
                        for p in e.problems
                    ],
                }
            }
        ), 422
    return jsonify(
        {
            "tenant": tenant_json(_row(result.tenant.slug)),
            "lead_username": result.lead_username,
            "temporary_password": result.temporary_password,
            "duties": result.duties,
        }
    ), 201
