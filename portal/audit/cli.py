"""`portal audit verify` and `portal audit checkpoint`."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from portal.audit.models import PLATFORM_CHAIN
from portal.extensions import db


def _chain_label(tenant_id, names: dict) -> str:  # type: ignore[no-untyped-def]
    if tenant_id == PLATFORM_CHAIN:
        return "platform"
    return names.get(tenant_id, str(tenant_id))


@click.group("audit")
def audit_cli() -> None:
    """The tamper-evident audit trail."""


@audit_cli.command("verify")
@click.option("--tenant", "slug", help="Only this district's chain.")
@click.option(
    "--against",
    "checkpoint",
    type=click.Path(exists=True, dir_okay=False),
    help="A signed checkpoint file.",
)
@with_appcontext
def verify(slug: str | None, checkpoint: str | None) -> None:
    """Recompute the hash chains; exit 1 and name the first bad sequence number if broken."""
    import sqlalchemy as sa

    from portal.audit.verify import verify_chains
    from portal.tenancy.models import Tenant

    with db.engine.connect() as conn:
        names = {
            r.id: r.slug
            for r in conn.execute(sa.select(Tenant.__table__.c.id, Tenant.__table__.c.slug))
        }
        tenant_id = None
        if slug:
            ids = {v: k for k, v in names.items()}
            if slug == "platform":
                tenant_id = PLATFORM_CHAIN
            elif slug not in ids:
                raise click.ClickException(f"no tenant with slug {slug!r}")
            else:
                tenant_id = ids[slug]
        results = verify_chains(conn, tenant_id)
        broken = False
        for r in sorted(results, key=lambda r: _chain_label(r.tenant_id, names)):
            label = _chain_label(r.tenant_id, names)
            if r.ok:
                click.echo(f"ok      {label}: {r.events} events, head {r.head_seq}")
            else:
                broken = True
                click.echo(
                    f"BROKEN  {label}: first bad sequence number {r.first_bad_seq} ({r.reason})"
                )
        if checkpoint:
            from portal.audit.checkpoint import check_against

            for problem in check_against(conn, checkpoint, results, names):
                broken = True
                click.echo(f"BROKEN  {problem}")
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
    """Write every chain's head, signed with PORTAL_AUDIT_KEY; store the file off the database host."""
    from portal.audit.checkpoint import CheckpointError, write_checkpoint

    try:
        with db.engine.connect() as conn:
            doc = write_checkpoint(conn, output)
    except CheckpointError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"wrote {output}: {len(doc['heads'])} chains")
