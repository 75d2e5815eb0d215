"""`portal meetings schedule [--tenant SLUG]` and `portal meetings export-minutes SLUG NUMBER FILE`."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from portal.audit.trail import as_system
from portal.extensions import db
from portal.tenancy import scope
from portal.tenancy.models import Tenant, TenantStatus

group = AppGroup("meetings", help="Joint meetings (联席会议).")


def _tenants(slug: str | None) -> list[Tenant]:
    with scope.cross_tenant("meetings cli: tenants"):
        q = sa.select(Tenant).where(Tenant.status == TenantStatus.active).order_by(Tenant.slug)
        if slug:
            q = sa.select(Tenant).where(Tenant.slug == slug)
        tenants = list(db.session.execute(q).scalars())
    if slug and not tenants:
        raise click.ClickException(f"no tenant with slug {slug!r}")
    return tenants


@group.command("schedule")
@click.option("--tenant", "slug", help="Only this district.")
@with_appcontext
def schedule_command(slug: str | None) -> None:
    """When each district's next regular meeting is due; exit 1 if any is overdue (>6 months)."""
    from portal.meetings import queries

    stale = 0
    for tenant in _tenants(slug):
        with scope.tenant_scope(tenant.id):
            s = queries.schedule()
            last = s.last_regular
            click.echo(
                f"{tenant.slug:<16} cadence={s.cadence:<11} "
                f"last={last.meeting_date.isoformat() if last else '-':<10} "
                f"next_due={s.next_due.isoformat() if s.next_due else '-':<10}"
                f"{'  STALE' if s.stale else ''}"
            )
            stale += s.stale
    raise SystemExit(1 if stale else 0)


@group.command("export-minutes")
@click.argument("slug")
@click.argument("number")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def export_minutes_command(slug: str, number: str, out: Path) -> None:
    """Write the minutes (.docx) of meeting NUMBER (e.g. 2026年第1次 or 2026-1) to OUT."""
    import re

    from portal.kernel.uow import cli_transaction
    from portal.meetings import exports, minutes
    from portal.meetings.models import Meeting

    match = re.match(r"^(\d{4})(?:年第|-)(\d+)次?$", number.strip())
    if not match:
        raise click.ClickException("NUMBER must look like 2026年第1次 or 2026-1")
    (tenant,) = _tenants(slug)
    with (
        as_system("meetings export-minutes"),
        scope.tenant_scope(tenant.id),
        cli_transaction(),
    ):
        meeting = db.session.execute(
            sa.select(Meeting).where(
                Meeting.year == int(match.group(1)), Meeting.sequence == int(match.group(2))
            )
        ).scalar_one_or_none()
        if meeting is None:
            raise click.ClickException(f"{slug} has no meeting {number}")
        out.write_bytes(exports.minutes_docx(meeting))
        minutes.record_export(meeting, "minutes")
    click.echo(f"wrote {out}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(group)
