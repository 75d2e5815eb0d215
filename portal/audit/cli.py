"""`portal audit verify` and `portal audit checkpoint`."""

from __future__ import annotations

import sys
import time
import uuid

import click
from flask.cli import with_appcontext

from portal.audit.models import PLATFORM_CHAIN
from portal.extensions import db


def _chain_label(tenant_id: uuid.UUID, names: dict) -> str:
    if tenant_id == PLATFORM_CHAIN:
        return "platform"
    return names.get(tenant_id, str(tenant_id))


def _tenant_names() -> dict[uuid.UUID, str]:
    """Slugs by id (the tenants table is global: no tenant scope needed)."""
    import sqlalchemy as sa

    from portal.tenancy.models import Tenant

    with db.engine.connect() as conn:
        table = Tenant.__table__
        return {r.id: r.slug for r in conn.execute(sa.select(table.c.id, table.c.slug))}


def _chain_id(slug: str | None, names: dict) -> uuid.UUID | None:
    if not slug:
        return None
    if slug == "platform":
        return PLATFORM_CHAIN
    ids = {v: k for k, v in names.items()}
    if slug not in ids:
        raise click.ClickException(f"no tenant with slug {slug!r}")
    return ids[slug]


@click.group("audit")
def audit_cli() -> None:
    """The tamper-evident audit trail."""


@audit_cli.command("verify")
@click.option("--tenant", "slug", help="Only this district's chain ('platform' for the platform).")
@click.option(
    "--against",
    "checkpoint",
    type=click.Path(exists=True, dir_okay=False),
    help="A signed checkpoint file (from `portal audit checkpoint`).",
)
@with_appcontext
def verify(slug: str | None, checkpoint: str | None) -> None:
    """Recompute the hash chains; exit 1 and name the first bad sequence number if broken."""
    from portal.audit.verify import snapshot, verify_in_snapshot

    names = _tenant_names()
    tenant_id = _chain_id(slug, names)
    started = time.perf_counter()
    broken = False
    with snapshot(db.engine) as (dialect, dbapi):
        results = verify_in_snapshot(dialect, dbapi, tenant_id)
        problems: list[str] = []
        if checkpoint:
            from portal.audit.checkpoint import CheckpointError, check_against

            try:
                problems = check_against(dialect, dbapi, checkpoint, names, tenant_id)
            except CheckpointError as e:
                raise click.ClickException(str(e)) from e
    elapsed = time.perf_counter() - started
    for r in sorted(results, key=lambda r: _chain_label(r.tenant_id, names)):
        label = _chain_label(r.tenant_id, names)
        if r.ok:
            click.echo(f"ok      {label}: {r.events} events, head {r.head_seq}")
        else:
            broken = True
            click.echo(f"BROKEN  {label}: first bad sequence number {r.first_bad_seq} ({r.reason})")
    for problem in problems:
        broken = True
        click.echo(f"BROKEN  {problem}")
    total = sum(r.events for r in results)
    rate = total / elapsed if elapsed > 0 else 0.0
    click.echo(f"{len(results)} chains, {total} events in {elapsed:.2f} s ({rate:,.0f} events/s)")
    sys.exit(1 if broken else 0)


@audit_cli.command("checkpoint")
@click.option(
    "--output",
    "-o",
    default="audit-checkpoint.json",
    show_default=True,
    type=click.Path(dir_okay=False),
)
@with_appcontext
def checkpoint(output: str) -> None:
    """Verify, then write every chain's head signed with PORTAL_AUDIT_KEY (store it off the DB host)."""
    from portal.audit.checkpoint import CheckpointError, _key, write_checkpoint
    from portal.audit.verify import verify_chains

    names = _tenant_names()
    try:
        _key()
        results = verify_chains(db.engine)
        doc = write_checkpoint(output, results, names)
    except CheckpointError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"wrote {output}: {len(doc['heads'])} chains")
