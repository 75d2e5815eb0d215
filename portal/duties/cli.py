"""`portal duties generate [--tenant SLUG] [--period 2026H2]`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext


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
    from portal.duties.generation import generate_duties
    from portal.kernel.grants import SYSTEM
    from portal.kernel.periods import Period
    from portal.kernel.rules import RuleError
    from portal.tenancy.services import for_each_district

    try:
        half = Period.parse(period) if period else Period.current()
    except RuleError as e:
        raise click.BadParameter(str(e.message), param_hint="--period") from e

    def generate(tenant: Any) -> Callable[[], None]:
        result = generate_duties(SYSTEM, half)

        def report() -> None:
            click.echo(
                f"{tenant.slug} {half.code}: {result.created} created, {result.updated} updated, "
                f"{result.removed} removed, {result.unchanged} unchanged, "
                f"{result.kept_signed} signed off kept"
            )
            for warning in result.warnings:
                click.echo(f"  warning: {warning}", err=True)

        return report

    with as_system("duties generate"):
        for_each_district(slug, "duties generate", generate)


def register_cli(app: Flask) -> None:
    app.cli.add_command(duties_cli)
