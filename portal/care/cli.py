"""`portal care repair-status`: recompute the care status rows behind the pre-aggregated
coverage figures from the care tables (set-based, per district), e.g. after rows were
loaded or corrected outside the care operations."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext


@click.group("care")
def care_cli() -> None:
    """Care records (issue 17)."""


@care_cli.command("repair-status")
@click.option("--tenant", "slug", help="District slug (default: every active district).")
@with_appcontext
def repair_status(slug: str | None) -> None:
    """Rewrite every household's and member's care status row from the care tables, and
    today's village figures from them."""
    from portal.audit.trail import as_system
    from portal.care import status
    from portal.tenancy.services import for_each_district

    def repair(tenant: Any) -> Any:
        households, persons = status.refresh(tenant.id)
        villages = status.rebuild(tenant.id)
        line = f"{tenant.slug}: {households} households, {persons} members, {villages} villages"
        return lambda: click.echo(line)

    with as_system("care repair-status"):
        for_each_district(slug, "care repair-status", repair)


def register_cli(app: Flask) -> None:
    app.cli.add_command(care_cli)
