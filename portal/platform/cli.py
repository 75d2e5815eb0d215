"""The operator's `portal tenants …` commands: list, onboard, lifecycle, export, archive.

Every command runs as the audit actor `system:tenants <command>` and in one
`cli_transaction` (commit at the end, or roll back and exit with the rule's message).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import yaml
from flask import Flask
from flask.cli import with_appcontext

from portal.audit.trail import as_system
from portal.kernel.uow import cli_transaction
from portal.platform import onboarding, services
from portal.platform.onboarding import problem_text
from portal.tenancy.models import Tenant, TenantStatus


def _tenant(slug: str) -> Tenant:
    tenant = services.tenant_by_slug(slug)
    if tenant is None:
        raise click.ClickException(f"no tenant with slug {slug!r}")
    return tenant


@click.group("tenants")
def tenants_cli() -> None:
    """Districts (tenants): list, onboard, suspend, resume, delete, export, archive."""


@tenants_cli.command("list")
@with_appcontext
def list_tenants() -> None:
    """Every district with its counts and health (what the console shows)."""
    click.echo(
        f"{'slug':<16} {'status':<17} {'depts':>5} {'users':>5} {'done':>5} "
        f"{'last sign-in':<16} {'policy until':<12} name"
    )
    for row in services.tenant_overview():
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


def dump_policy(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


@click.command("onboard")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--slug", help="Use this slug instead of the file's tenant.slug.")
@click.option("--lead-username", help="Username of the district lead (default <slug>-lead).")
@click.option("--lead-name", help="Display name of the district lead.")
@click.option("--dry-run", is_flag=True, help="Validate and preview only; create nothing.")
@with_appcontext
def onboard(
    file: Path, slug: str | None, lead_username: str | None, lead_name: str | None, dry_run: bool
) -> None:
    """Onboard a district from a policy file (docs/policy-format.md), in one transaction."""
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise click.ClickException(f"{file}: not UTF-8 text") from e
    with as_system("tenants onboard"):
        checked = onboarding.preview(text, slug, lead_username)
        if not checked.ok:
            for p in checked.problems:
                click.echo(f"{file}: {problem_text(p, 'en')}", err=True)
            raise click.ClickException(
                f"{len(checked.problems)} problem(s) in {file}; nothing was created"
            )
        click.echo(
            f"{checked.slug}: {len(checked.departments)} departments, "
            f"{len(checked.measures)} measures, {len(checked.benefits)} benefit standards, "
            f"meeting: {'yes' if checked.meeting else 'no'}"
        )
        if dry_run:
            click.echo("dry run: nothing created")
            return
        try:
            with cli_transaction():
                result = onboarding.onboard(text, slug, lead_username, lead_name)
        except onboarding.OnboardingRefused as e:
            for p in e.problems:
                click.echo(f"{file}: {problem_text(p, 'en')}", err=True)
            raise click.ClickException("nothing was created") from e
    click.echo(f"onboarded {result.tenant.slug} ({result.tenant.name}): {result.duties} duties")
    click.echo(f"district lead: {result.lead_username}")
    click.echo(
        f"temporary password (must be changed at first sign-in): {result.temporary_password}"
    )


@click.command("export")
@click.argument("slug")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def export(slug: str, output: Path | None) -> None:
    """Write the district's configuration in the policy-file format."""
    with as_system("tenants export"), cli_transaction():
        tenant = _tenant(slug)
        if tenant.status == TenantStatus.purged:
            raise click.ClickException(f"{slug} is purged")
        text = dump_policy(services.export_configuration(tenant))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")


def _lifecycle(slug: str, command: str, fn) -> None:  # type: ignore[no-untyped-def]
    with as_system(f"tenants {command}"), cli_transaction():
        tenant = _tenant(slug)
        fn(tenant)
    click.echo(f"{slug}: {tenant.status.value}")


def _lifecycle_command(action: str, help_text: str, with_reason: bool = False) -> click.Command:
    """`flask tenants <action> SLUG` (with `--reason` where the change records one)."""

    def run(slug: str, reason: str | None = None) -> None:
        extra = () if reason is None else (reason,)
        _lifecycle(slug, action, lambda t: services.apply_action(t, action, *extra))

    command = with_appcontext(run)
    if with_reason:
        command = click.option("--reason", default="")(command)
    return click.command(action, help=help_text)(click.argument("slug")(command))


suspend = _lifecycle_command("suspend", "Block sign-in to a district; its data is kept.", True)
resume = _lifecycle_command("resume", "Open a suspended district again.")
activate = _lifecycle_command("activate", "Open a district that is still provisioning.")
delete = _lifecycle_command(
    "delete", "Mark a district pending deletion: hidden, restorable for 30 days, then purged.", True
)
restore = _lifecycle_command(
    "restore", "Undo a deletion request (the district comes back suspended)."
)


@click.command("purge")
@click.argument("slug")
@click.option("--confirm", "typed", required=True, help="Type the slug again to confirm.")
@with_appcontext
def purge(slug: str, typed: str) -> None:
    """Delete a district's data now (only when pending deletion)."""
    _lifecycle(slug, "purge", lambda t: services.purge_tenant(t, typed))


@click.command("purge-expired")
@with_appcontext
def purge_expired() -> None:
    """Purge districts pending deletion for more than 30 days (run daily from cron)."""
    with as_system("tenants purge-expired"), cli_transaction():
        slugs = services.purge_expired()
    click.echo(f"purged: {', '.join(slugs) if slugs else 'none'}")


@click.command("archive")
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def archive_command(slug: str, file: Path) -> None:
    """Full data export: every record and evidence file, with a manifest of SHA-256 hashes."""
    from portal.platform import archive

    try:
        with as_system("tenants archive"), cli_transaction():
            tenant = _tenant(slug)
            with file.open("wb") as out:
                manifest = archive.write_archive(tenant, out)
    except BaseException:
        file.unlink(missing_ok=True)  # no half-written archive is left behind
        raise
    rows = sum(t["count"] for t in manifest["tables"].values())
    click.echo(
        f"wrote {file}: {rows} rows in {len(manifest['tables'])} tables, "
        f"{len(manifest['files'])} files"
    )


@click.command("import-archive")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_archive_command(file: Path) -> None:
    """Load a tenant archive into this database (its slug, ids and usernames must be free)."""
    from portal.platform import archive

    with as_system("tenants import-archive"):
        try:
            with cli_transaction():
                tenant, manifest = archive.import_archive(file)
        except archive.ArchiveError as e:
            raise click.ClickException(f"{file}: {e.message}; nothing was imported") from e
    rows = sum(t["count"] for t in manifest["tables"].values())
    click.echo(
        f"imported {tenant.slug} ({tenant.name}): {rows} rows, "
        f"{len(manifest['files'])} files, status {tenant.status.value}"
    )


def register_cli(app: Flask) -> None:
    for command in (
        onboard,
        suspend,
        resume,
        export,
        activate,
        delete,
        restore,
        purge,
        purge_expired,
        archive_command,
        import_archive_command,
    ):
        tenants_cli.add_command(command)
    app.cli.add_command(tenants_cli)
