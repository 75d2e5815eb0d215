"""Operator-side services: the tenant overview, purge and configuration export.

Accounts are changed through `portal.auth.operations`, the tenant's status through
`portal.platform.lifecycle`; each domain reports its own figures through the
`tenant_statistics` signal (this module never reads another domain's tables).

Cross-tenant reads say so explicitly (`cross_tenant`) and only ever aggregate: the
console shows counts and health of a district, never its business records.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.kernel import signals
from portal.platform.lifecycle import (
    ACTIONS,
    RETENTION_DAYS,
    LifecycleError,
    apply_action,
    record_platform,
    set_status,
)
from portal.tenancy import scope
from portal.tenancy.models import Department, Tenant, TenantStatus
from portal.tenancy.services import tenant_by_slug

# The lifecycle (portal.platform.lifecycle) and the look-up by slug (portal.tenancy.services),
# re-exported for the console, the API and the CLI.
__all__ = ["ACTIONS", "RETENTION_DAYS", "LifecycleError", "apply_action", "tenant_by_slug"]


# ---------------------------------------------------------------- overview


@dataclass
class TenantRow:
    tenant: Tenant
    departments: int
    users: int
    last_sign_in: dt.datetime | None
    duties_total: int = 0
    duties_accepted: int = 0
    last_meeting: Any = None
    households: int | None = None  # the register's counts (None: domain not answering)
    persons: int | None = None
    pending_changes: int | None = None
    policy_until: dt.date | None = None
    has_policy: bool = False

    @property
    def completion(self) -> int | None:
        if not self.duties_total:
            return None
        return round(100 * self.duties_accepted / self.duties_total)

    @property
    def purge_after(self) -> dt.datetime | None:
        if self.tenant.status != TenantStatus.pending_deletion:
            return None
        return self.tenant.status_changed_at + dt.timedelta(days=RETENTION_DAYS)


def tenant_overview(
    *,
    search: str = "",
    status: TenantStatus | None = None,
    page: int = 1,
    per_page: int | None = None,
) -> list[TenantRow]:
    """Counts and health per tenant in a constant number of aggregate queries (6 or 7)."""
    return tenant_page(search=search, status=status, page=page, per_page=per_page)[0]


def tenant_query(*, search: str = "", status: TenantStatus | None = None) -> sa.Select:
    """The districts the console lists: by status and a search of name, slug, province."""
    q = sa.select(Tenant)
    if status is not None:
        q = q.where(Tenant.status == status)
    if search:
        like = f"%{search.strip()}%"
        q = q.where(
            Tenant.name.like(like)
            | Tenant.slug.like(like)
            | Tenant.province.like(like)
            | Tenant.name_en.like(like)
        )
    return q.order_by(Tenant.province, Tenant.name, Tenant.slug)


def tenant_page(
    *,
    search: str = "",
    status: TenantStatus | None = None,
    page: int = 1,
    per_page: int | None = None,
) -> tuple[list[TenantRow], int]:
    """One page of the tenant list and the number of matching tenants."""
    with scope.cross_tenant("platform console: counts per tenant"):
        q = tenant_query(search=search, status=status)
        total = db.session.execute(
            sa.select(sa.func.count()).select_from(q.order_by(None).subquery())
        ).scalar_one()
        if per_page:
            q = q.limit(per_page).offset(max(page - 1, 0) * per_page)
        tenants = list(db.session.execute(q).scalars().all())
        return tenant_rows(tenants), total


def tenant_rows(tenants: list[Tenant]) -> list[TenantRow]:
    """Counts and health of these tenants in a constant number of aggregate queries."""
    from portal.policy.models import PolicyVersion, VersionStatus

    ids = [t.id for t in tenants]
    if not ids:
        return []
    with scope.cross_tenant("platform console: counts per tenant"):
        dept_counts = dict(
            db.session.execute(
                sa.select(Department.tenant_id, sa.func.count())
                .where(Department.active.is_(True), Department.tenant_id.in_(ids))
                .group_by(Department.tenant_id)
            ).all()
        )
        user_rows = db.session.execute(
            sa.select(User.tenant_id, sa.func.count(), sa.func.max(User.last_login_at))
            .where(User.tenant_id.in_(ids), User.active.is_(True))
            .group_by(User.tenant_id)
        ).all()
        version_rows = db.session.execute(
            sa.select(
                PolicyVersion.tenant_id, PolicyVersion.effective_from, PolicyVersion.effective_until
            ).where(
                PolicyVersion.status == VersionStatus.in_force, PolicyVersion.tenant_id.in_(ids)
            )
        ).all()
        figures = domain_statistics(ids)
    users = {r[0]: (r[1], r[2]) for r in user_rows}
    latest: dict[uuid.UUID, tuple[dt.date, dt.date | None]] = {}
    for tenant_id, start, until in version_rows:
        if tenant_id not in latest or start >= latest[tenant_id][0]:
            latest[tenant_id] = (start, until)
    return [
        TenantRow(
            tenant=t,
            departments=dept_counts.get(t.id, 0),
            users=users.get(t.id, (0, None))[0],
            last_sign_in=users.get(t.id, (0, None))[1],
            duties_total=int(figures.get(t.id, {}).get("duties_total", 0)),
            duties_accepted=int(figures.get(t.id, {}).get("duties_accepted", 0)),
            last_meeting=figures.get(t.id, {}).get("last_meeting"),
            households=figures.get(t.id, {}).get("households"),
            persons=figures.get(t.id, {}).get("persons"),
            pending_changes=figures.get(t.id, {}).get("pending_changes"),
            policy_until=latest.get(t.id, (None, None))[1],
            has_policy=t.id in latest,
        )
        for t in tenants
    ]


def domain_statistics(tenant_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """Each domain's own figures for these tenants, asked through `tenant_statistics`
    (duties: this half-year's duties and accepted ones; meetings: the last one held;
    register: households and persons in the register, changes awaiting confirmation)."""
    merged: dict[uuid.UUID, dict[str, Any]] = {}
    for answer in signals.responses(signals.tenant_statistics.send(None, tenant_ids=tenant_ids)):
        for tenant_id, figures in answer.items():  # type: ignore[attr-defined]
            merged.setdefault(tenant_id, {}).update(figures)
    return merged


def get_tenant(slug: str, *, include_purged: bool = True) -> Tenant | None:
    return tenant_by_slug(slug, include_purged=include_purged)


# ---------------------------------------------------------------- lifecycle


def _tenant_tables() -> list[sa.Table]:
    """Every table holding tenant rows, parents first (the audit chain excluded)."""
    return [
        t
        for t in db.Model.metadata.sorted_tables
        if "tenant_id" in t.c and t.name not in ("audit_events", "audit_chain_heads")
    ]


def _evidence_paths(tenant_id: uuid.UUID) -> list[Path]:
    from portal.duties.models import EvidenceFile

    root = Path(current_app.config["UPLOAD_DIR"]).resolve()
    table = EvidenceFile.__table__
    keys = db.session.execute(
        sa.select(table.c.storage_key).where(table.c.tenant_id == tenant_id)
    ).scalars()
    out = []
    for key in keys:
        path = (root / key).resolve()
        if path.is_relative_to(root) and path.is_file():
            out.append(path)
    return out


def purge_tenant(tenant: Tenant, typed_slug: str, *, expired: bool = False) -> dict[str, int]:
    """Delete all of a tenant's business data and users, keeping its row and audit chain.

    Only from pending deletion, and only when the operator typed the slug. Rows are
    deleted with Core statements (one per table) — the per-row audit capture would
    add thousands of events to a chain nobody may read any more — and the counts
    go into one `tenant_purged` event on the platform chain.
    """
    if tenant.status != TenantStatus.pending_deletion:
        raise LifecycleError(_l("Only a district pending deletion can be purged."))
    if typed_slug.strip() != tenant.slug:
        raise LifecycleError(
            _l("The typed slug does not match; nothing was purged."), field="confirm_slug"
        )
    counts: dict[str, int] = {}
    with scope.cross_tenant("tenant purge"):
        files = _evidence_paths(tenant.id)
        conn = db.session.connection()
        for table in reversed(_tenant_tables()):
            if table.name == "tenants":
                continue
            result = conn.execute(table.delete().where(table.c.tenant_id == tenant.id))
            if result.rowcount:
                counts[table.name] = result.rowcount
        set_status(
            tenant,
            TenantStatus.purged,
            data={"rows": counts, "files": len(files), "expired": expired},
            purge=True,
        )
    # The files go when the transaction that deleted their rows has committed.
    after_commit(lambda: [path.unlink(missing_ok=True) for path in files])
    return counts


_AFTER_COMMIT = "platform_after_commit"


def after_commit(action: Any) -> None:
    """Run `action` once the current transaction commits; forget it if it rolls back.

    Files on disk follow the rows that point at them: purged files are deleted, imported
    ones written, only when the unit of work has committed those rows."""
    from portal.db import listen_once

    session = db.session()
    listen_once(type(session), "after_commit", _run_after_commit)
    listen_once(type(session), "after_rollback", _forget_after_commit)
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


def _run_after_commit(session: Any) -> None:
    for action in session.info.pop(_AFTER_COMMIT, []):
        action()


def _forget_after_commit(session: Any) -> None:
    session.info.pop(_AFTER_COMMIT, None)


def purge_expired(now: dt.datetime | None = None) -> list[str]:
    """Purge tenants pending deletion for longer than the retention window."""
    cutoff = (now or utcnow()) - dt.timedelta(days=RETENTION_DAYS)
    with scope.cross_tenant("purge expired tenants"):
        due = (
            db.session.execute(
                sa.select(Tenant).where(
                    Tenant.status == TenantStatus.pending_deletion,
                    Tenant.status_changed_at < cutoff,
                )
            )
            .scalars()
            .all()
        )
    for tenant in due:
        purge_tenant(tenant, tenant.slug, expired=True)
    return [t.slug for t in due]


def export_configuration(tenant: Tenant) -> dict:
    """The district's configuration in the policy-file format (audited)."""
    from portal.policy import services as policy_services

    with scope.tenant_scope(tenant.id, read_only=False):
        data = policy_services.export_policy(tenant)
    with scope.cross_tenant("policy export"):
        record_platform("tenant_config_exported", tenant)
        db.session.flush()
    return data
