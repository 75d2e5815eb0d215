"""`portal policy check FILE`, `portal policy load SLUG FILE`, `portal policy export SLUG`.

The operator's path speaks Chinese by default: the language comes from `--lang`, then
`PORTAL_LANG`, then `LANG`, else zh (`cli_locale`). The platform's `tenants onboard`
uses the same helpers (`cli_locale`, `report_problems`, `report_confirmations`).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import yaml
from flask import Flask
from flask.cli import with_appcontext

LANG_OPTION = click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default=None,
    help="Language of the messages (default: PORTAL_LANG, then LANG, else zh).",
)


def cli_locale(option: str | None = None) -> str:
    """`zh` or `en`: `--lang`, then `PORTAL_LANG`, then `LANG` (en_US… → en), default zh.

    `LANG=C`/`POSIX` (a server's default) says nothing about the operator: zh.
    """
    for value in (option, os.environ.get("PORTAL_LANG"), os.environ.get("LANG")):
        if not value:
            continue
        code = value.strip().lower()
        if code.startswith("en"):
            return "en"
        if code.startswith("zh"):
            return "zh"
    return "zh"


def say(lang: str, zh: str, en: str) -> str:
    """One message in the CLI's language (both texts are written where they are used)."""
    return en if lang == "en" else zh


class CliError(click.ClickException):
    """A refusal printed as `错误：…` (or `Error: …`) in the command's language."""

    def __init__(self, message: str, lang: str = "zh") -> None:
        super().__init__(message)
        self.lang = lang

    def show(self, file: Any = None) -> None:
        click.echo(say(self.lang, f"错误：{self.message}", f"Error: {self.message}"), err=True)


def localized(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add `--lang`; run the command with the rules' messages in that language.

    Put it below `with_appcontext` (the locale is forced inside the app context). A
    refusal from `cli_transaction` (a ClickException) is shown as a `CliError`.
    """
    from flask_babel import force_locale

    @LANG_OPTION
    @functools.wraps(fn)
    def wrapper(*args: Any, lang: str | None = None, **kwargs: Any) -> Any:
        code = cli_locale(lang)
        with force_locale("en" if code == "en" else "zh_Hans_CN"):
            try:
                return fn(*args, lang=code, **kwargs)
            except click.ClickException as e:
                if isinstance(e, CliError):
                    raise
                raise CliError(e.message, code) from e

    return wrapper


def read_text(path: str, lang: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise CliError(say(lang, f"无法读取 {path}：{e}", f"cannot read {path}: {e}"), lang) from e


def report_problems(problems: list, lang: str) -> None:
    """Every problem on its own line (line, path, item, message), then the count."""
    for p in problems:
        click.echo(p.text(lang), err=True)
    click.echo(
        say(
            lang,
            f"共 {len(problems)} 个问题；未写入任何内容。",
            f"{len(problems)} problem(s); nothing was written.",
        ),
        err=True,
    )


def report_confirmations(data: dict, lang: str) -> int:
    """List the measures that name no department and take the document-wide lead."""
    from portal.policy.schema import measures_taking_document_lead

    pending = measures_taking_document_lead(data)
    if not pending:
        return 0
    lead = (data.get("policy") or {}).get("lead_department")
    names = {d.get("key"): d.get("name") for d in data.get("departments") or []}
    click.echo(
        say(
            lang,
            f"以下 {len(pending)} 条措施未写明责任单位，将由文件牵头单位 {lead}（{names.get(lead, '')}）"
            "承担。请逐条确认：在 lead 中写明单位并在 inferred.lead 中说明理由，或设置 duty: false。",
            f"{len(pending)} measure(s) name no department and take the document's lead {lead} "
            f"({names.get(lead, '')}). Confirm each: write its lead with the reason in "
            "inferred.lead, or set duty: false.",
        )
    )
    for i, m in pending:
        click.echo(
            say(
                lang,
                f"  measures[{i}]（措施 {m.get('number')}）{m.get('title', '')} → {lead}",
                f"  measures[{i}] (measure {m.get('number')}) {m.get('title', '')} → {lead}",
            )
        )
    return len(pending)


def _valid_or_exit(file: str, lang: str) -> dict[str, Any]:
    """The parsed policy file; every problem reported and exit 1 when there is any."""
    from portal.policy.policy_text import parse_policy_text

    data, problems = parse_policy_text(read_text(file, lang))
    if problems:
        report_problems(problems, lang)
        sys.exit(1)
    assert data is not None
    return data


@click.group("policy")
def policy_cli() -> None:
    """District policy files (docs/policy-format.md): check, load, export."""


@policy_cli.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
@localized
def check(file: str, lang: str | None) -> None:
    """Validate a policy file; list every problem with its line and item (exit 1 if any)."""

    lang = cli_locale(lang)
    data = _valid_or_exit(file, lang)
    measures = data["measures"]
    benefits = sum(len(m.get("benefits") or []) for m in measures)
    click.echo(
        say(
            lang,
            f"{file}：有效 — {len(data['departments'])} 个单位，{len(measures)} 条措施，"
            f"{benefits} 项扶助标准",
            f"{file}: valid — {len(data['departments'])} departments, "
            f"{len(measures)} measures, {benefits} benefit standards",
        )
    )
    report_confirmations(data, lang)


@policy_cli.command("load")
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False))
@with_appcontext
@localized
def load(slug: str, file: str, lang: str | None) -> None:
    """Load a policy file into an existing district as a new policy version."""
    from portal.audit.trail import as_system
    from portal.kernel import signals
    from portal.kernel.grants import SYSTEM
    from portal.kernel.uow import cli_transaction
    from portal.policy.services import PolicyInvalid, load_policy
    from portal.tenancy import scope
    from portal.tenancy.services import TenantError, get_tenant

    lang = cli_locale(lang)
    data = _valid_or_exit(file, lang)
    file_slug = (data.get("tenant") or {}).get("slug")
    if file_slug != slug:
        click.echo(
            say(
                lang,
                f"注意：该文件属于 {file_slug!r}，将载入 {slug!r}",
                f"note: the file is for {file_slug!r}; loading it into {slug!r}",
            ),
            err=True,
        )
    with as_system(f"policy load {slug}"):
        try:
            tenant = get_tenant(slug)
        except TenantError as e:
            raise CliError(str(e.message), lang) from e
        with scope.tenant_scope(tenant.id):
            with cli_transaction():
                try:
                    version = load_policy(tenant, data)
                except PolicyInvalid as e:
                    report_problems(e.problems, lang)
                    sys.exit(1)  # rolls back: nothing is written
                signals.policy_changed.send(tenant, version=version, actor=SYSTEM)
            click.echo(
                say(
                    lang,
                    f"{slug}：已载入 {version.title} {version.doc_number}"
                    f"（{len(data['measures'])} 条措施）",
                    f"{slug}: loaded {version.title} {version.doc_number} "
                    f"({len(data['measures'])} measures)",
                )
            )
            report_confirmations(data, lang)


@policy_cli.command("export")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE, not stdout.")
@with_appcontext
@localized
def export(slug: str, output: str | None, lang: str | None) -> None:
    """Write a district's policy configuration in the policy-file format."""
    from portal.audit import trail
    from portal.audit.trail import as_system
    from portal.kernel.uow import cli_transaction
    from portal.policy.services import export_policy
    from portal.tenancy import scope
    from portal.tenancy.services import TenantError, get_tenant

    lang = cli_locale(lang)
    with as_system(f"policy export {slug}"):
        try:
            tenant = get_tenant(slug)
        except TenantError as e:
            raise CliError(str(e.message), lang) from e
        with scope.tenant_scope(tenant.id), cli_transaction():
            data = export_policy(tenant)
            text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
            trail.record_on(
                tenant,
                "policy_exported",
                summary=slug,
            )
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(say(lang, f"{slug}：已写入 {output}", f"{slug}: written to {output}"))
    else:
        click.echo(text, nl=False)


def register_cli(app: Flask) -> None:
    app.cli.add_command(policy_cli)
