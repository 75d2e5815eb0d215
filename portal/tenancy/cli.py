"""`portal tenants …` and `portal users …`."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from portal.audit import trail
from portal.extensions import db
from portal.tenancy import scope, services
from portal.tenancy.models import TenantStatus


@click.group("tenants")
def tenants_cli() -> None:
    """Districts (tenants): list, suspend, resume, onboard, export."""


@tenants_cli.command("list")
@with_appcontext
def list_tenants() -> None:
    from portal.platform.services import tenant_overview

    click.echo(
        f"{'slug':<16} {'status':<17} {'depts':>5} {'users':>5} {'done':>5} "
        f"{'last sign-in':<16} {'policy until':<12} name"
    )
    for row in tenant_overview():
        t = row.tenant
        done = f"{row.completion}%" if row.completion is not None else "-"
        signed = row.last_sign_in.strftime("%Y-%m-%d %H:%M") if row.last_sign_in else "-"
        until = (
            row.policy_until.isoformat()
            if row.policy_until
            else ("open-ended" if row.has_policy else "no policy")
        )
        click.echo(
            f"{t.slug:<16} {t.status.value:<17} {row.departments:>5} {row.users:>5} {done:>5} "
            f"{signed:<16} {until:<12} {t.name}"
        )


def _lifecycle(slug: str, status: TenantStatus, command: str) -> None:
    with trail.acting_as(trail.system_actor(f"tenants {command}")):
        try:
            tenant = services.get_tenant(slug)
        except services.TenantError as e:
            raise click.ClickException(str(e)) from e
        from portal.platform.services import LifecycleError, apply_action

        try:
            apply_action(tenant, command)
        except LifecycleError as e:
            raise click.ClickException(str(e)) from e
    click.echo(f"{slug}: {status.value}")


@tenants_cli.command("suspend")
@click.argument("slug")
@with_appcontext
def suspend(slug: str) -> None:
    """Block sign-in to a district; its data is kept."""
    _lifecycle(slug, TenantStatus.suspended, "suspend")


@tenants_cli.command("resume")
@click.argument("slug")
@with_appcontext
def resume(slug: str) -> None:
    _lifecycle(slug, TenantStatus.active, "resume")


@click.group("users")
def users_cli() -> None:
    """User accounts."""


@users_cli.command("create")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(["platform_operator", "district_lead", "dept_officer", "auditor"]),
    required=True,
)
@click.option("--tenant", "tenant_slug", help="District slug (not for operators).")
@click.option("--department", "department_key", help="Department key (officers only).")
@click.option("--name", "display_name", help="Display name.")
@click.password_option()
@with_appcontext
def create_user(
    username: str,
    role: str,
    tenant_slug: str | None,
    department_key: str | None,
    display_name: str | None,
    password: str,
) -> None:
    from portal.auth.models import Role
    from portal.auth.passwords import password_problems
    from portal.auth.services import create_user as make_user
    from portal.tenancy.models import Department

    problems = password_problems(password, username)
    if problems:
        raise click.ClickException(" ".join(problems))
    role_enum = Role(role)
    if (role_enum == Role.platform_operator) != (tenant_slug is None):
        raise click.ClickException(
            "--tenant is required for district roles and not allowed for operators"
        )
    with trail.acting_as(trail.system_actor("users create")):
        if tenant_slug is None:
            with scope.cross_tenant("create operator"):
                make_user(
                    username=username,
                    display_name=display_name or username,
                    password=password,
                    role=role_enum,
                )
                db.session.commit()
        else:
            try:
                tenant = services.get_tenant(tenant_slug)
            except services.TenantError as e:
                raise click.ClickException(str(e)) from e
            with scope.tenant_scope(tenant.id):
                dept_id = None
                if role_enum == Role.dept_officer:
                    dept = db.session.execute(
                        sa.select(Department).filter_by(key=department_key or "")
                    ).scalar_one_or_none()
                    if dept is None:
                        raise click.ClickException(
                            "--department must name a department key of the tenant"
                        )
                    dept_id = dept.id
                make_user(
                    username=username,
                    display_name=display_name or username,
                    password=password,
                    role=role_enum,
                    tenant_id=tenant.id,
                    department_id=dept_id,
                )
                db.session.commit()
    click.echo(f"created {username}")
