"""The operator's `portal tenants …` commands: list, onboard, lifecycle, export, archive.

Every command runs as the audit actor `system:tenants <command>` and in one
`cli_transaction` (commit at the end, or roll back and exit with the rule's message).
They speak Chinese by default, like `portal policy …`: the language comes from
`--lang`, then `PORTAL_LANG`, then `LANG` (`portal.policy.cli.cli_locale`); the rules'
own messages are rendered in that language too (`force_locale`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import yaml
from flask import Flask
from flask.cli import with_appcontext

from portal.audit.trail import as_system
from portal.kernel.labels import labeller
from portal.kernel.uow import cli_transaction
from portal.platform import onboarding, services
from portal.platform.onboarding import problem_text
from portal.policy.cli import CliError, localized, say
from portal.tenancy.models import STATUS_LABELS, Tenant, TenantStatus


def _tenant(slug: str, lang: str) -> Tenant:
    tenant = services.tenant_by_slug(slug)
    if tenant is None:
        raise CliError(
            say(lang, f"没有标识为 {slug} 的区县", f"no tenant with slug {slug!r}"), lang
        )
    return tenant


def _status(tenant: Tenant) -> str:
    return labeller(STATUS_LABELS)(tenant.status)


@click.group("tenants")
def tenants_cli() -> None:
    """Districts (tenants): list, onboard, suspend, resume, delete, export, archive."""


@tenants_cli.command("list")
@with_appcontext
@localized
def list_tenants(lang: str) -> None:
    """Every district with its counts and health (what the console shows)."""
    heads = say(
        lang,
        ("标识", "状态", "单位", "用户", "完成", "最近登录", "政策有效期至", "名称"),
        ("slug", "status", "depts", "users", "done", "last sign-in", "policy until", "name"),
    )
    click.echo(
        f"{heads[0]:<16} {heads[1]:<17} {heads[2]:>5} {heads[3]:>5} {heads[4]:>5} "
        f"{heads[5]:<16} {heads[6]:<12} {heads[7]}"
    )
    for row in services.tenant_overview():
        t = row.tenant
        done = f"{row.completion}%" if row.completion is not None else "-"
        signed = row.last_sign_in.strftime("%Y-%m-%d %H:%M") if row.last_sign_in else "-"
        until = (
            row.policy_until.isoformat()
            if row.policy_until
            else say(lang, "长期有效", "open-ended")
            if row.has_policy
            else say(lang, "无政策", "no policy")
        )
        click.echo(
            f"{t.slug:<16} {_status(t):<17} {row.departments:>5} {row.users:>5} {done:>5} "
            f"{signed:<16} {until:<12} {t.name}"
        )


def dump_policy(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def _source(file: Path | None, template: str | None, lang: str) -> tuple[str, str, bool]:
    """(label, text, from a template) of the policy file or the named template."""
    if template:
        try:
            return f"{template}.yaml", onboarding.template_text(template), True
        except KeyError:
            stems = "、".join(s for s, _ in onboarding.templates())
            raise CliError(
                say(
                    lang,
                    f"没有名为 {template} 的模板；可用模板：{stems}",
                    f"no template named {template}; templates: {stems}",
                ),
                lang,
            ) from None
    if file is None:
        raise CliError(
            say(lang, "请指定政策文件或 --template 模板", "give a policy file or --template"),
            lang,
        )
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CliError(
            say(lang, f"{file}：不是 UTF-8 文本", f"{file}: not UTF-8 text"), lang
        ) from None
    in_templates = file.resolve().parent == onboarding.TEMPLATES_DIR.resolve()
    return str(file), text, in_templates


def _prompt(lang: str, zh: str, en: str, default: str, **kw: Any) -> str:
    return str(click.prompt(say(lang, zh, en), default=default or None, **kw)).strip()


@click.command("onboard")
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--template", help="Start from a template in tenants/ (e.g. kaifeng).")
@click.option("--name", help="The new district's name (replaces the file's tenant.name).")
@click.option("--slug", help="Use this slug instead of the file's tenant.slug.")
@click.option("--level", help="The district's level: 区, 县, 县级市, 自治县, 旗 or 市.")
@click.option("--lead-username", help="Username of the district lead (default <slug>-lead).")
@click.option("--lead-name", help="Display name of the district lead.")
@click.option("--dry-run", is_flag=True, help="Validate and preview only; create nothing.")
@click.option("--yes", "-y", is_flag=True, help="Create even if a district has the same name.")
@with_appcontext
@localized
def onboard(
    file: Path | None,
    template: str | None,
    name: str | None,
    slug: str | None,
    level: str | None,
    lead_username: str | None,
    lead_name: str | None,
    dry_run: bool,
    yes: bool,
    lang: str,
) -> None:
    """Onboard a district from a policy file (docs/policy-format.md), in one transaction.

    From a template (`--template` or a file in tenants/) it asks for the new district's
    name, slug and level unless given. A duplicate name is a warning to confirm; a slug
    that is taken is asked again, everything else typed is kept.
    """
    label, text, from_template = _source(file, template, lang)
    nothing = say(lang, "未创建任何内容", "nothing was created")
    try:
        if from_template:
            own = onboarding.template_defaults(text)
            levels = "、".join(onboarding.level_choices())
            if not name:
                name = _prompt(lang, "新区县名称", "New district's name", own["name"])
            if not slug:
                slug = _prompt(lang, "标识（小写字母、数字和 -）", "Slug", own["slug"])
            if not level:
                level = _prompt(
                    lang,
                    f"级别（{levels}）",
                    f"Level ({levels})",
                    own["level"],
                    type=click.Choice(onboarding.level_choices()),
                    show_choices=False,
                )
        with as_system("tenants onboard"):
            while True:
                checked = onboarding.preview(text, slug, lead_username, name=name, level=level)
                for p in checked.problems:
                    click.echo(f"{label}: {problem_text(p, lang)}", err=True)
                if checked.ok:
                    break
                if checked.data is not None and all(
                    onboarding.is_slug_problem(p, bool(lead_username)) for p in checked.problems
                ):
                    # Only the slug is wrong: ask for another, keep everything else.
                    slug = _prompt(lang, "请输入新的标识", "Enter another slug", "")
                    continue
                raise CliError(
                    say(
                        lang,
                        f"{label} 中有 {len(checked.problems)} 个问题；{nothing}",
                        f"{len(checked.problems)} problem(s) in {label}; {nothing}",
                    ),
                    lang,
                )
            click.echo(
                say(
                    lang,
                    f"{checked.name}（{checked.slug}，{checked.level}）："
                    f"{len(checked.departments)} 个单位，{len(checked.measures)} 条措施，"
                    f"{len(checked.benefits)} 项扶助标准，"
                    f"联席会议：{'有' if checked.meeting else '无'}",
                    f"{checked.name} ({checked.slug}, {checked.level}): "
                    f"{len(checked.departments)} departments, {len(checked.measures)} measures, "
                    f"{len(checked.benefits)} benefit standards, "
                    f"meeting: {'yes' if checked.meeting else 'no'}",
                )
            )
            for w in checked.warnings:
                click.echo(say(lang, "注意：", "warning: ") + problem_text(w, lang), err=True)
            if dry_run:
                click.echo(say(lang, "试运行：未创建任何内容", "dry run: nothing created"))
                return
            if (
                checked.warnings
                and not yes
                and not click.confirm(say(lang, "仍要创建吗？", "Create it anyway?"), default=False)
            ):
                raise CliError(nothing, lang)
            try:
                with cli_transaction():
                    result = onboarding.onboard(
                        text, checked.slug, lead_username, lead_name, name=name, level=level
                    )
            except onboarding.OnboardingRefused as e:
                for p in e.problems:
                    click.echo(f"{label}: {problem_text(p, lang)}", err=True)
                raise CliError(nothing, lang) from e
    except click.Abort:
        raise CliError(nothing, lang) from None
    t = result.tenant
    click.echo(
        say(
            lang,
            f"已接入 {t.slug}（{t.name}）：{result.duties} 项职责",
            f"onboarded {t.slug} ({t.name}): {result.duties} duties",
        )
    )
    click.echo(
        say(
            lang,
            f"区县统筹单位账号：{result.lead_username}",
            f"district lead: {result.lead_username}",
        )
    )
    click.echo(
        say(
            lang,
            f"临时密码（首次登录须修改）：{result.temporary_password}",
            f"temporary password (must be changed at first sign-in): {result.temporary_password}",
        )
    )


@click.command("export")
@click.argument("slug")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
@localized
def export(slug: str, output: Path | None, lang: str) -> None:
    """Write the district's configuration in the policy-file format."""
    with as_system("tenants export"), cli_transaction():
        tenant = _tenant(slug, lang)
        if tenant.status == TenantStatus.purged:
            raise CliError(say(lang, f"{slug} 已清除", f"{slug} is purged"), lang)
        text = dump_policy(services.export_configuration(tenant))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(say(lang, f"已写入 {output}", f"wrote {output}"))


def _lifecycle(slug: str, command: str, fn, lang: str) -> None:  # type: ignore[no-untyped-def]
    """One lifecycle step; a refused step exits with the rule's message in `lang`."""
    with as_system(f"tenants {command}"), cli_transaction():
        tenant = _tenant(slug, lang)
        fn(tenant)
    click.echo(say(lang, f"{slug}：{_status(tenant)}", f"{slug}: {_status(tenant)}"))


def _lifecycle_command(action: str, help_text: str, with_reason: bool = False) -> click.Command:
    """`flask tenants <action> SLUG` (with `--reason` where the change records one)."""

    def run(slug: str, lang: str, reason: str | None = None) -> None:
        extra = () if reason is None else (reason,)
        _lifecycle(slug, action, lambda t: services.apply_action(t, action, *extra), lang)

    command = with_appcontext(localized(run))
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
@localized
def purge(slug: str, typed: str, lang: str) -> None:
    """Delete a district's data now (only when pending deletion)."""
    _lifecycle(slug, "purge", lambda t: services.purge_tenant(t, typed), lang)


@click.command("purge-expired")
@with_appcontext
@localized
def purge_expired(lang: str) -> None:
    """Purge districts pending deletion for more than 30 days (run daily from cron)."""
    with as_system("tenants purge-expired"), cli_transaction():
        slugs = services.purge_expired()
    none = say(lang, "无", "none")
    click.echo(say(lang, "已清除：", "purged: ") + (", ".join(slugs) if slugs else none))


@click.command("archive")
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
@localized
def archive_command(slug: str, file: Path, lang: str) -> None:
    """Full data export: every record and evidence file, with a manifest of SHA-256 hashes."""
    from portal.platform import archive

    try:
        with as_system("tenants archive"), cli_transaction():
            tenant = _tenant(slug, lang)
            with file.open("wb") as out:
                manifest = archive.write_archive(tenant, out)
    except BaseException as e:
        file.unlink(missing_ok=True)  # no half-written archive is left behind
        if isinstance(e, archive.ArchiveError):
            raise CliError(str(e.message), lang) from e
        raise
    rows = sum(t["count"] for t in manifest["tables"].values())
    tables, files = len(manifest["tables"]), len(manifest["files"])
    click.echo(
        say(
            lang,
            f"已写入 {file}：{tables} 张表共 {rows} 行，{files} 个文件",
            f"wrote {file}: {rows} rows in {tables} tables, {files} files",
        )
    )


@click.command("import-archive")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
@localized
def import_archive_command(file: Path, lang: str) -> None:
    """Load a tenant archive into this database (its slug, ids and usernames must be free)."""
    from portal.platform import archive

    with as_system("tenants import-archive"):
        try:
            with cli_transaction():
                tenant, manifest = archive.import_archive(file)
        except archive.ArchiveError as e:
            raise CliError(
                say(
                    lang,
                    f"{file}：{e.message}；未导入任何内容",
                    f"{file}: {e.message}; nothing was imported",
                ),
                lang,
            ) from e
    rows = sum(t["count"] for t in manifest["tables"].values())
    files = len(manifest["files"])
    click.echo(
        say(
            lang,
            f"已导入 {tenant.slug}（{tenant.name}）：{rows} 行，{files} 个文件，"
            f"状态：{_status(tenant)}",
            f"imported {tenant.slug} ({tenant.name}): {rows} rows, {files} files, "
            f"status {_status(tenant)}",
        )
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
