"""The `portal` command (also `flask --app portal …`): demo data, tenants, users, audit."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext


def _app_factory() -> Flask:
    from portal import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_app_factory, add_default_commands=True)
def main() -> None:
    """Portal for district special-family support programmes."""


@click.command("demo")
@click.option("--quiet", is_flag=True, help="Do not print the logins.")
@with_appcontext
def demo_command(quiet: bool) -> None:
    """Load the four seed districts with their departments and demo users (idempotent)."""
    from portal.audit.trail import as_system
    from portal.demo import DEMO_PASSWORD, load_demo

    with as_system("demo"):
        logins = load_demo()
    if quiet:
        return
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for tenant_name, username, role in logins:
        click.echo(f"  {tenant_name:<12} {role:<18} {username}")


@click.command("remind")
@click.option("--tenant", "slug", help="District slug (default: every active district).")
@with_appcontext
def remind_command(slug: str | None) -> None:
    """The daily reminders (run once a day from cron): 站内消息 for duties due within 7 days
    or overdue, and for reports a regular meeting within 7 days still lacks. Each
    recipient hears of each duty or meeting once, however often this runs."""

    from portal.audit.trail import as_system
    from portal.duties.reminders import send_reminders
    from portal.meetings.reminders import send_report_reminders
    from portal.tenancy.services import for_each_district

    def remind(tenant: Any) -> Callable[[], None]:
        soon, overdue = send_reminders()
        reports = send_report_reminders()
        line = (
            f"{tenant.slug}: {soon} due within 7 days, {overdue} overdue, {reports} reports awaited"
        )
        return lambda: click.echo(line)

    with as_system("remind"):
        for_each_district(slug, "remind", remind)


def register_cli(app: Flask) -> None:
    from portal.audit.cli import audit_cli

    app.cli.add_command(demo_command)
    app.cli.add_command(remind_command)
    app.cli.add_command(audit_cli)
    app.cli.add_command(i18n_cli)

    from portal import domains

    for module in domains.modules("cli"):
        if hasattr(module, "register_cli"):
            module.register_cli(app)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


@click.group("i18n")
def i18n_cli() -> None:
    """Translation catalogs (translations/<domain>/<locale>/LC_MESSAGES/messages.po)."""


@i18n_cli.command("update")
def i18n_update() -> None:
    """Extract marked strings of every domain and merge them into the catalogs."""
    from portal.i18n import compile_catalogs, update_catalogs

    for po in update_catalogs():
        click.echo(f"updated {po}")
    compile_catalogs(force=True)


@i18n_cli.command("missing")
@click.option("--domain")
def i18n_missing(domain: str | None) -> None:
    """List msgids that have no Chinese translation."""
    from portal.i18n import missing_translations

    for d, msgid in missing_translations(domain):
        click.echo(f"{d}\t{msgid}")
