"""`portal policy check FILE`, `portal policy load SLUG FILE`, `portal policy export SLUG`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import yaml
from flask import Flask
from flask.cli import with_appcontext


@click.group("policy")
def policy_cli() -> None:
    """District policy files (docs/policy-format.md): check, load, export."""


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise click.ClickException(f"cannot read {path}: {e}") from e


def _report(problems: list, lang: str) -> None:
    for p in problems:
        click.echo(p.text(lang), err=True)
    click.echo(f"{len(problems)} problem(s); nothing was written.", err=True)


@policy_cli.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--lang", type=click.Choice(["zh", "en"]), default="en", show_default=True)
def check(file: str, lang: str) -> None:
    """Validate a policy file; list every problem with its path and line (exit 1 if any)."""
    from portal.policy.schema import parse_policy_text

    data, problems = parse_policy_text(_read(file))
    if problems:
        _report(problems, lang)
        sys.exit(1)
    assert data is not None
    measures = data["measures"]
    benefits = sum(len(m.get("benefits") or []) for m in measures)
    click.echo(
        f"{file}: valid — {len(data['departments'])} departments, "
        f"{len(measures)} measures, {benefits} benefit standards"
    )


@policy_cli.command("load")
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--lang", type=click.Choice(["zh", "en"]), default="en", show_default=True)
@with_appcontext
def load(slug: str, file: str, lang: str) -> None:
    """Load a policy file into an existing district as a new policy version."""
    from portal.audit.trail import as_system
    from portal.extensions import db
    from portal.policy.schema import parse_policy_text
    from portal.policy.services import PolicyInvalid, load_policy
    from portal.tenancy import scope
    from portal.tenancy.services import TenantError, get_tenant

    data, problems = parse_policy_text(_read(file))
    if problems:
        _report(problems, lang)
        sys.exit(1)
    file_slug = (data or {}).get("tenant", {}).get("slug")
    if file_slug != slug:
        click.echo(f"note: the file is for {file_slug!r}; loading it into {slug!r}", err=True)
    with as_system(f"policy load {slug}"):
        try:
            tenant = get_tenant(slug)
        except TenantError as e:
            raise click.ClickException(str(e)) from e
        with scope.tenant_scope(tenant.id):
            try:
                version = load_policy(tenant, data)  # type: ignore[arg-type]
                db.session.commit()
            except PolicyInvalid as e:
                db.session.rollback()
                _report(e.problems, lang)
                sys.exit(1)
            except Exception:
                db.session.rollback()
                raise
            click.echo(
                f"{slug}: loaded {version.title} {version.doc_number} "
                f"({len(data['measures'])} measures)"  # type: ignore[index]
            )


@policy_cli.command("export")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE, not stdout.")
@with_appcontext
def export(slug: str, output: str | None) -> None:
    """Write a district's policy configuration in the policy-file format."""
    from portal.audit import trail
    from portal.audit.trail import as_system
    from portal.extensions import db
    from portal.policy.services import export_policy
    from portal.tenancy import scope
    from portal.tenancy.services import TenantError, get_tenant

    with as_system(f"policy export {slug}"):
        try:
            tenant = get_tenant(slug)
        except TenantError as e:
            raise click.ClickException(str(e)) from e
        with scope.tenant_scope(tenant.id):
            data = export_policy(tenant)
            text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
            trail.record(
                db.session,
                "policy_exported",
                entity_type="Tenant",
                entity_id=tenant.id,
                summary=slug,
            )
            db.session.commit()
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"{slug}: written to {output}")
    else:
        click.echo(text, nl=False)


def register_cli(app: Flask) -> None:
    app.cli.add_command(policy_cli)
