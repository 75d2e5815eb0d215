"""The operator's dashboard on the console home: districts by state, onboarding in
progress, users online, recent sign-in failures and storage.

Counts only, like the rest of the console: no district's business records, and no
attempted user names from failed sign-ins (a password typed into the name field must not
reach an operator's screen). Users online come from the workspace (a layer above) through
the kernel signal `platform_figures`. The statements are fixed in number (five, plus one
per answering domain); storage is the database's size and the upload folder's, walked
with a cap so a huge folder cannot slow the page.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import gettext as _

from portal.audit.models import PLATFORM_CHAIN, AuditEvent
from portal.db import utcnow
from portal.extensions import db
from portal.kernel import clock, signals
from portal.tenancy import scope
from portal.tenancy.models import STATUS_LABELS, Tenant, TenantStatus

FAILURE_DAYS = 7
WALK_LIMIT = 20_000  # files counted before the upload folder's size is reported as "at least"


@dataclass
class Storage:
    database_bytes: int | None
    upload_bytes: int
    upload_files: int
    upload_capped: bool


@dataclass
class ConsoleDashboard:
    by_status: list[dict[str, Any]]
    onboarding: list[Tenant]
    users_online: int | None
    failures: list[dict[str, Any]]  # one per day, oldest first
    failures_by_district: list[dict[str, Any]]
    failures_total: int
    storage: Storage
    chart: dict[str, Any] = field(default_factory=dict)


def console_dashboard() -> ConsoleDashboard:
    with scope.cross_tenant("platform console: dashboard counts"):
        counts = dict(
            db.session.execute(
                sa.select(Tenant.status, sa.func.count()).group_by(Tenant.status)
            ).all()
        )
        onboarding = list(
            db.session.execute(
                sa.select(Tenant)
                .where(Tenant.status == TenantStatus.provisioning)
                .order_by(Tenant.status_changed_at.desc())
                .limit(20)
            ).scalars()
        )
        figures: dict[str, Any] = {}
        for answer in signals.responses(signals.platform_figures.send(None)):
            figures.update(answer)  # type: ignore[arg-type]
        days, per_district, total = _sign_in_failures()
    by_status = [
        {"key": s.value, "label": str(STATUS_LABELS[s]), "value": int(counts.get(s, 0))}
        for s in TenantStatus
    ]
    dash = ConsoleDashboard(
        by_status=by_status,
        onboarding=onboarding,
        users_online=figures.get("users_online"),
        failures=days,
        failures_by_district=per_district,
        failures_total=total,
        storage=storage(),
    )
    dash.chart = {
        "status": {
            "items": [
                {
                    "key": s["key"],
                    "name": s["label"],
                    "value": s["value"],
                    "link": url_for("platform.console", status=s["key"]),
                }
                for s in by_status
                if s["value"]
            ]
        },
        "failures": {
            "days": [d["day"] for d in days],
            "counts": [d["count"] for d in days],
            "name": _("Failed sign-ins"),
        },
    }
    return dash


def _sign_in_failures() -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Failed sign-ins of the last `FAILURE_DAYS` days: per day (district time) and per district."""
    since = utcnow() - dt.timedelta(days=FAILURE_DAYS)
    rows = db.session.execute(
        sa.select(AuditEvent.tenant_id, AuditEvent.occurred_at)
        .where(AuditEvent.action == "login_failed", AuditEvent.occurred_at >= since)
        # bounded: a flood of failures shows as at least this many
        .limit(10_000)
    ).all()
    today = clock.today()
    days = {today - dt.timedelta(days=n): 0 for n in range(FAILURE_DAYS - 1, -1, -1)}
    per_tenant: dict[Any, int] = {}
    for tenant_id, at in rows:
        local = clock.local(at)
        if local is not None and local.date() in days:
            days[local.date()] += 1
        per_tenant[tenant_id] = per_tenant.get(tenant_id, 0) + 1
    names = (
        dict(
            db.session.execute(
                sa.select(Tenant.id, Tenant.name).where(Tenant.id.in_(list(per_tenant)))
            ).all()
        )
        if per_tenant
        else {}
    )
    per_district = sorted(
        (
            {
                "name": names.get(tid) or (_("Platform") if tid == PLATFORM_CHAIN else str(tid)),
                "count": n,
            }
            for tid, n in per_tenant.items()
        ),
        key=lambda r: -r["count"],
    )
    return (
        [{"day": d.isoformat(), "count": n} for d, n in days.items()],
        per_district[:10],
        len(rows),
    )


def storage() -> Storage:
    return Storage(_database_bytes(), *_folder(Path(current_app.config["UPLOAD_DIR"])))


def _database_bytes() -> int | None:
    engine = db.engine
    if engine.dialect.name == "postgresql":
        return int(
            db.session.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
        )
    path = engine.url.database
    if path and path != ":memory:" and os.path.exists(path):
        return os.path.getsize(path)
    return None


def _folder(root: Path) -> tuple[int, int, bool]:
    size = files = 0
    if not root.is_dir():
        return 0, 0, False
    stack = [str(root)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    files += 1
                    size += entry.stat(follow_symlinks=False).st_size
                    if files >= WALK_LIMIT:
                        return size, files, True
    return size, files, False


def human_size(n: int | None) -> str:
    """A size in MB, the one unit the pages name (1 decimal; small sizes as "<0.1 MB")."""
    if n is None:
        return "—"
    mb = n / (1024 * 1024)
    if n and mb < 0.1:
        return "<0.1 MB"
    return f"{mb:,.1f} MB"
