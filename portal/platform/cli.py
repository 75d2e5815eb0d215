"""`portal tenants onboard|export|delete|restore|purge|purge-expired|archive|import-archive`.

Added to the `tenants` group of portal.tenancy.cli; every command runs as the audit
actor `system:tenants <command>`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import yaml
from flask import Flask
from flask.cli import with_appcontext

from portal.audit.trail import as_system
from portal.platform import adapters, onboarding, services
from portal.tenancy.models import Tenant, TenantStatus


def _tenant(slug: str) -> Tenant:
    tenant = services.get_tenant(slug)
    if tenant is None:
        raise click.ClickException(f"no tenant with slug {slug!r}")
    return tenant


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
                click.echo(f"{file}: {adapters.problem_text(p, 'en')}", err=True)
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
            result = onboarding.onboard(text, slug, lead_username, lead_name)
        except onboarding.OnboardingRefused as e:
            for p in e.problems:
                click.echo(f"{file}: {adapters.problem_text(p, 'en')}", err=True)
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
    with as_system("tenants export"):
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
    with as_system(f"tenants {command}"):
        tenant = _tenant(slug)
        try:
            fn(tenant)
        except services.LifecycleError as e:
            raise click.ClickException(str(e)) from e
    click.echo(f"{slug}: {tenant.status.value}")


@click.command("activate")
@click.argument("slug")
@with_appcontext
def activate(slug: str) -> None:
    """Open a district that is still provisioning."""
    _lifecycle(slug, "activate", lambda t: services.apply_action(t, "activate"))


@click.command("delete")
@click.argument("slug")
@click.option("--reason", default="")
@with_appcontext
def delete(slug: str, reason: str) -> None:
    """Mark a district pending deletion: hidden, restorable for 30 days, then purged."""
    _lifecycle(slug, "delete", lambda t: services.apply_action(t, "delete", reason))


@click.command("restore")
@click.argument("slug")
@with_appcontext
def restore(slug: str) -> None:
    """Undo a deletion request (the district comes back suspended)."""
    _lifecycle(slug, "restore", lambda t: services.apply_action(t, "restore"))


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
    with as_system("tenants purge-expired"):
        slugs = services.purge_expired()
    click.echo(f"purged: {', '.join(slugs) if slugs else 'none'}")


@click.command("archive")
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def archive_command(slug: str, file: Path) -> None:
    """Full data export: every record and evidence file, with a manifest of SHA-256 hashes."""
    from portal.platform import archive

    with as_system("tenants archive"):
        tenant = _tenant(slug)
        with file.open("wb") as out:
            manifest = archive.write_archive(tenant, out)
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
            tenant, manifest = archive.import_archive(file)
        except archive.ArchiveError as e:
            raise click.ClickException(f"{file}: {e}; nothing was imported") from e
    rows = sum(t["count"] for t in manifest["tables"].values())
    click.echo(
        f"imported {tenant.slug} ({tenant.name}): {rows} rows, "
        f"{len(manifest['files'])} files, status {tenant.status.value}"
    )


def register_cli(app: Flask) -> None:
    from portal.tenancy.cli import tenants_cli

    for command in (
        onboard,
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
