"""`portal users create`: an account made from the command line, by the same rules."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from portal.audit import trail
from portal.kernel.grants import SYSTEM, Role
from portal.kernel.uow import cli_transaction


@click.group("users")
def users_cli() -> None:
    """User accounts."""


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
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
    """Create an account (username rule, duplicate check and password policy apply)."""
    from portal.auth import operations
    from portal.tenancy.services import get_tenant

    with trail.acting_as(trail.system_actor("users create")), cli_transaction():
        operations.create_user(
            SYSTEM,
            username=username,
            role=role,
            tenant=get_tenant(tenant_slug) if tenant_slug else None,
            display_name=display_name or "",
            department_key=department_key,
            password=password,
        )
    click.echo(f"created {username}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(users_cli)
