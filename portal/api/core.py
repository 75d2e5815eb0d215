"""Core endpoints: the current user and the departments of their district."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import g, jsonify

from portal.api import api_requires, bp, get_or_404, paginate
from portal.tenancy.models import Department


def user_json(user: Any) -> dict:
    return {
        "id": str(user.id),
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "tenant": user.tenant.slug if user.tenant else None,
        "department_id": str(user.department_id) if user.department_id else None,
    }


def department_json(d: Department) -> dict:
    return {"id": str(d.id), "key": d.key, "kind": d.kind_code, "name": d.name, "active": d.active}


@bp.get("/me")
@api_requires("account.self")
def me() -> Any:
    return jsonify(user_json(g.api_user))


@bp.get("/departments")
@api_requires("district.home")
def departments() -> Any:
    return paginate(
        sa.select(Department).order_by(Department.sort_order, Department.name), department_json
    )


@bp.get("/departments/<uuid:department_id>")
@api_requires("district.home")
def department(department_id: Any) -> Any:
    return jsonify(department_json(get_or_404(Department, department_id)))
