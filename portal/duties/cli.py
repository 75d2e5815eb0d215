"""`portal duties generate [--tenant SLUG] [--period 2026H2]`."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext

from portal.extensions import db


@click.group("duties")
def duties_cli() -> None:
    """The duty cycle: generate each half-year's duties from the policy in force."""


@duties_cli.command("generate")
@click.option("--tenant", "slug", help="District slug (default: every active district).")
@click.option("--period", help="Half-year such as 2026H2 (default: the current period).")
@with_appcontext
def generate_command(slug: str | None, period: str | None) -> None:
    """Create or update duties for the period (idempotent; signed-off duties are never touched)."""
    from portal.audit.trail import as_system
    from portal.duties import services
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant, TenantStatus

    try:
        period = services.parse_period(period or services.current_period())
    except services.DutyError as e:
        raise click.BadParameter(str(e.message), param_hint="--period") from e
    with scope.cross_tenant("duties generate: list districts"):
        stmt = sa.select(Tenant).order_by(Tenant.slug)
        if slug:
            stmt = stmt.where(Tenant.slug == slug)
        else:
            stmt = stmt.where(Tenant.status == TenantStatus.active)
        tenants = db.session.execute(stmt).scalars().all()
        db.session.rollback()
    if slug and not tenants:
        raise click.ClickException(f"no district with slug {slug!r}")
    with as_system("duties generate"):
        for tenant in tenants:
            with scope.tenant_scope(tenant.id):
                result = services.generate_duties(period)
                db.session.commit()
            click.echo(
                f"{tenant.slug} {period}: {result.created} created, {result.updated} updated, "
                f"{result.removed} removed, {result.unchanged} unchanged, "
                f"{result.kept_signed} signed off kept"
            )
            for warning in result.warnings:
                click.echo(f"  warning: {warning}", err=True)


def register_cli(app: Flask) -> None:
    app.cli.add_command(duties_cli)
