"""National-scale data for the benchmark (bench/README.md), outside the production CLI.

    PORTAL_DATABASE_URL=… PORTAL_MIGRATE_DATABASE_URL=… python -m bench.seed_scale --tenants 2800

It writes audit chains for the districts it clones in bulk, which is why it is not a
`portal` command: the production command line never rewrites a chain.
"""

from __future__ import annotations

import contextlib

import click
from flask import has_app_context


@click.command("seed-scale", context_settings={"show_default": True})
@click.option(
    "--tenants",
    "count",
    type=click.IntRange(1, 100_000),
    required=True,
    help="Total number of scale districts wanted (scale-00001 …); existing ones are kept.",
)
@click.option(
    "--template",
    default="jiangyan",
    help="Policy file in tenants/ whose measures and departments every district gets.",
)
@click.option(
    "--periods", type=click.IntRange(1, 40), default=10, help="Half-year periods of duties."
)
@click.option(
    "--batch", type=click.IntRange(1, 1000), default=25, help="Districts per transaction."
)
def seed_scale_command(count: int, template: str, periods: int, batch: int) -> None:
    """Fill the database with COUNT districts of realistic volume; the audit chain stays valid."""
    from bench.seed import BENCH_PASSWORD, seed_scale
    from portal import create_app
    from portal.audit.trail import as_system

    context = contextlib.nullcontext() if has_app_context() else create_app().app_context()
    with context, as_system("seed-scale"):
        report = seed_scale(count, template, periods, batch=batch, progress=click.echo)
    click.echo(
        f"{report.tenants_total} scale districts ({report.created} new, {report.rows} rows) "
        f"in {report.seconds:.1f}s; sign in as scale-00001-lead / {BENCH_PASSWORD}"
    )


if __name__ == "__main__":
    seed_scale_command()
