"""`portal policy check|load|export` (issue 4): validated, audited, nothing half-written."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
import yaml

from tests.conftest import ROOT


def test_check_accepts_a_template_and_lists_every_problem(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    r = runner.invoke(
        args=["policy", "check", "--lang", "en", str(ROOT / "tenants" / "kaifeng.yaml")]
    )
    assert r.exit_code == 0, r.output
    assert "valid" in r.output and "23 measures" in r.output
    bad = tmp_path / "bad.yaml"
    text = (ROOT / "tenants" / "kaifeng.yaml").read_text(encoding="utf-8")
    bad.write_text(
        text.replace("amount: 1430", "amount: -1").replace("category: housing", "category: x"),
        encoding="utf-8",
    )
    r = runner.invoke(args=["policy", "check", "--lang", "en", str(bad)])
    assert r.exit_code == 1
    assert (
        "measures[2].benefits[0].values[1].amount (measure 1): must be a positive number (line"
        in r.output
    )
    assert "measures[12].category" in r.output and "2 problem(s)" in r.output
    r = runner.invoke(args=["policy", "check", "--lang", "zh", str(bad)])
    assert "measures[2].benefits[0].values[1].amount（措施 1）：必须为正数" in r.output


def test_load_adds_a_version_and_export_is_audited(fresh_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.policy.models import PolicyVersion
    from portal.tenancy import scope
    from portal.tenancy.services import get_tenant

    runner = fresh_app.test_cli_runner()
    out = tmp_path / "jd.yaml"
    r = runner.invoke(args=["policy", "export", "jiading", "-o", str(out)])
    assert r.exit_code == 0, r.output
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    data["policy"]["doc_number"] = "嘉卫人口〔2026〕1号"
    data["policy"]["effective_from"] = "2026-07-01"
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    r = runner.invoke(args=["policy", "load", "jiading", str(out)])
    assert r.exit_code == 0, r.output
    with fresh_app.app_context():
        tenant = get_tenant("jiading")
        with scope.tenant_scope(tenant.id):
            numbers = db.session.execute(sa.select(PolicyVersion.doc_number)).scalars().all()
            assert sorted(numbers) == ["嘉卫人口〔2023〕2号", "嘉卫人口〔2026〕1号"]
            events = db.session.execute(sa.select(AuditEvent.action, AuditEvent.actor_name)).all()
    assert ("policy_exported", "system:policy export jiading") in {tuple(e) for e in events}
    assert any(a == "create" and n == "system:policy load jiading" for a, n in events)


def test_load_refuses_a_broken_file(fresh_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner = fresh_app.test_cli_runner()
    bad = tmp_path / "bad.yaml"
    bad.write_text("format_version: 1\ntenant: {slug: x}\n", encoding="utf-8")
    r = runner.invoke(args=["policy", "load", "jiading", str(bad)])
    assert r.exit_code == 1 and "未写入任何内容" in r.output
    r = runner.invoke(args=["policy", "load", "nope", str(ROOT / "tenants" / "jiading.yaml")])
    assert r.exit_code != 0 and "nope" in r.output
