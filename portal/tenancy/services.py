"""Tenants and their departments: the look-up by slug, "departments in order", the roster.

Shared by the console, the API, the CLI and onboarding. Nothing here commits. A
tenant's status changes only through the lifecycle (`portal.platform.lifecycle`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.extensions import db
from portal.kernel import memo
from portal.kernel.rules import NotFound, RuleError
from portal.tenancy import scope
from portal.tenancy.models import DEPARTMENT_KINDS, Department, DepartmentKind, Tenant, TenantStatus


class TenantError(NotFound):
    """No tenant with that slug (kept as a name for the callers that catch it)."""


# ---------------------------------------------------------------- look-up


def tenants_for_job(slug: str | None, reason: str) -> list[Tenant]:
    """The districts a batch command works on: the one named, or every active one (the
    read ends its transaction: each district then runs in its own)."""
    with scope.cross_tenant(reason):
        stmt = sa.select(Tenant).order_by(Tenant.slug)
        if slug:
            stmt = stmt.where(Tenant.slug == slug)
        else:
            stmt = stmt.where(Tenant.status == TenantStatus.active)
        tenants = list(db.session.execute(stmt).scalars().all())
        db.session.rollback()
    return tenants


def for_each_district(
    slug: str | None, job: str, work: Callable[[Tenant], Callable[[], None]]
) -> None:
    """A batch command's loop: `work` runs for each district in its own scope and the CLI's
    unit of work (`portal.kernel.uow.cli_transaction`); the report it returns is shown once
    that district's changes are committed. A slug that names no district is refused."""
    import click

    from portal.kernel.uow import cli_transaction

    tenants = tenants_for_job(slug, f"{job}: list districts")
    if slug and not tenants:
        raise click.ClickException(f"no district with slug {slug!r}")
    for tenant in tenants:
        with scope.tenant_scope(tenant.id), cli_transaction():
            report = work(tenant)
        report()


def tenant_by_slug(slug: str, *, include_purged: bool = True) -> Tenant | None:
    """The one look-up of a tenant by its slug (explicitly across tenants)."""
    with scope.cross_tenant("tenant by slug"):
        tenant = db.session.execute(
            sa.select(Tenant).where(Tenant.slug == (slug or "").strip())
        ).scalar_one_or_none()
    if tenant is not None and not include_purged and tenant.status == TenantStatus.purged:
        return None
    return tenant


def get_tenant(slug: str) -> Tenant:
    """Like `tenant_by_slug`, raising `TenantError` (a 404 rule error) when there is none."""
    tenant = tenant_by_slug(slug)
    if tenant is None:
        raise TenantError(_l("There is no district with the slug %(slug)s.", slug=slug[:40]))
    return tenant


# ---------------------------------------------------------------- departments


def ensure_department_kinds() -> None:
    """Insert or refresh the canonical department kinds (a shared reference table)."""
    existing = {k.code: k for k in db.session.execute(sa.select(DepartmentKind)).scalars()}
    for order, (code, zh, en) in enumerate(DEPARTMENT_KINDS):
        kind = existing.get(code)
        if kind is None:
            db.session.add(DepartmentKind(code=code, name_zh=zh, name_en=en, sort_order=order))
        elif (kind.name_zh, kind.name_en, kind.sort_order) != (zh, en, order):
            kind.name_zh, kind.name_en, kind.sort_order = zh, en, order


def departments_query(*, include_inactive: bool = False) -> sa.Select:
    """The district-in-scope's departments in their order ("departments in order", once).

    Choices and rosters leave the deactivated ones out; the department admin page lists
    them too (`include_inactive=True`), after the active ones."""
    q = sa.select(Department)
    if include_inactive:
        return q.order_by(Department.active.desc(), Department.sort_order, Department.name)
    return q.where(Department.active.is_(True)).order_by(Department.sort_order, Department.name)


def departments_in_order(*, include_inactive: bool = False) -> list[Department]:
    return list(
        db.session.execute(departments_query(include_inactive=include_inactive)).scalars().all()
    )


def upsert_department(
    tenant: Tenant, key: str, kind_code: str, name: str, order: int
) -> Department:
    """Used inside the tenant's scope; returns the existing row when nothing changed."""
    dept = db.session.execute(sa.select(Department).filter_by(key=key)).scalar_one_or_none()
    if dept is None:
        dept = Department(
            tenant_id=tenant.id, key=key, kind_code=kind_code, name=name, sort_order=order
        )
        db.session.add(dept)
    else:
        if dept.kind_code != kind_code:
            dept.kind_code = kind_code
        if dept.name != name:
            dept.name = name
        if dept.sort_order != order:
            dept.sort_order = order
    return dept


DEPARTMENT_KEY_RE = r"^[a-z][a-z0-9_]{1,59}$"


def department_kinds() -> list[DepartmentKind]:
    return list(
        db.session.execute(sa.select(DepartmentKind).order_by(DepartmentKind.sort_order))
        .scalars()
        .all()
    )


def create_department(tenant: Tenant, key: str, kind_code: str, name: str) -> Department:
    """A new department of the district, placed last."""
    import re

    key, name = (key or "").strip(), (name or "").strip()
    if not re.match(DEPARTMENT_KEY_RE, key):
        raise RuleError(
            _l("The key must start with a letter and hold only a–z, 0–9 and _ (2–60)."),
            field="key",
        )
    if not name or len(name) > 120:
        raise RuleError(
            _l("Please enter the department's official name (at most 120 characters)."),
            field="name",
        )
    if db.session.get(DepartmentKind, kind_code or "") is None:
        raise RuleError(_l("Choose a department kind from the list."), field="kind")
    with scope.tenant_scope(tenant.id):
        if db.session.execute(sa.select(Department.id).filter_by(key=key)).first():
            raise RuleError(_l("A department with this key already exists."), field="key")
        order = db.session.execute(sa.select(sa.func.count(Department.id))).scalar_one()
        dept = Department(key=key, kind_code=kind_code, name=name, sort_order=order)
        db.session.add(dept)
        db.session.flush()
    return dept


def set_department_active(tenant: Tenant, department_id: Any, active: bool) -> Department:
    with scope.tenant_scope(tenant.id):
        dept = db.session.execute(
            sa.select(Department).filter_by(id=department_id)
        ).scalar_one_or_none()
        if dept is None:
            raise NotFound(_l("The department was not found."))
        if dept.active != active:
            dept.active = active
            db.session.flush()
    return dept


def own_department(user: Any) -> dict[str, str] | None:
    """An officer's department as plain values (`name`, `kind_code`; None for other
    roles), kept up to a minute by `portal.kernel.memo`: the user menu names it on every
    page, and the register and benefits open only to some kinds of department (the menu
    and the views ask here, so they share one look-up).

    Pages outside a district (the account's own pages) read it in the user's district:
    on PostgreSQL row-level security hides the row until a district is in scope."""
    department_id = getattr(user, "department_id", None)
    if department_id is None:
        return None
    tenant_id = getattr(user, "tenant_id", None)

    def load() -> dict[str, str] | None:
        query = sa.select(Department.name, Department.kind_code).where(
            Department.id == department_id
        )
        if scope.current().tenant_id is None and tenant_id is not None:
            with scope.tenant_scope(tenant_id):
                row = db.session.execute(query).first()
        else:
            row = db.session.execute(query).first()
        return {"name": row.name, "kind_code": row.kind_code or ""} if row else None

    return memo.remembered(("own_department", department_id), load, tenant_id)


def department_kind(user: Any) -> str | None:
    """The kind of an officer's department (None for other roles)."""
    department = own_department(user)
    return (department["kind_code"] or None) if department else None
