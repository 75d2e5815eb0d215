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
    assert "measures[2].benefits[0].values[1].amount（措施 1）: 必须为正数（第" in r.output


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


def _broken_kaifeng() -> str:
    """开封 with four faults: a YAML syntax error (an unquoted colon in the meeting note),
    an unknown department kind, a misspelt field and an unknown department."""
    text = (ROOT / "tenants" / "kaifeng.yaml").read_text(encoding="utf-8")
    text = text.replace("    kind: finance\n", "    kind: finanse\n", 1)
    text = text.replace(
        "  effective_from: 2023-08-01\n  supersedes", "  efective_from: 2023-08-01\n  supersedes", 1
    )
    text = text.replace("    lead:\n      - housing\n", "    lead:\n      - housing_bureau\n", 1)
    return text.replace(
        '  member_departments: []\n  note: "', '  member_departments: []\n  note: 说明: "', 1
    )


def test_check_speaks_chinese_with_lines_items_and_suggestions(
    fresh_app, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Issue 14: four faults, four Chinese messages, each on its line with its item and a
    "did you mean"; the YAML error does not hide the others; nothing is written."""
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.policy.models import PolicyVersion

    monkeypatch.delenv("PORTAL_LANG", raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")  # a server's default says nothing: Chinese
    bad = tmp_path / "bad.yaml"
    text = _broken_kaifeng()
    bad.write_text(text, encoding="utf-8")
    lines = text.split("\n")

    def line_of(fragment: str) -> int:
        return next(i for i, line in enumerate(lines, 1) if fragment in line)

    def counts() -> tuple[int, int]:
        with fresh_app.app_context():
            return (
                db.session.execute(
                    sa.select(sa.func.count()).select_from(PolicyVersion)
                ).scalar_one(),
                db.session.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar_one(),
            )

    before = counts()
    r = fresh_app.test_cli_runner().invoke(args=["policy", "check", str(bad)])
    assert r.exit_code == 1
    out = [line for line in r.output.splitlines() if line.strip()]
    assert out[-1] == "共 4 个问题；未写入任何内容。", r.output
    messages = out[:-1]
    assert len(messages) == 4, r.output
    assert messages[0] == (
        "meeting.note: YAML 语法错误：此处不能出现“键: 值”：文本中的冒号请放在双引号里"
        f'（"…: …"）（第 {line_of("note: 说明:")} 行）'
    )
    assert (
        "departments[1].kind（单位 开封市财政局）: 不是已知的部门类别代码（'finanse'）；"
        f"是否应为 finance（财政）？（第 {line_of('kind: finanse')} 行）"
    ) in messages
    assert (
        "policy.efective_from: 未知字段 efective_from；是否应为 effective_from？"
        f"（第 {line_of('efective_from')} 行）"
    ) in messages
    assert (
        "measures[12].lead[0]（措施 11）: 部门 'housing_bureau' 不在 departments 名单中；"
        f"是否应为 housing（开封市住房和城乡建设局）？（第 {line_of('housing_bureau')} 行）"
    ) in messages
    assert not any("must" in m or "allowed" in m for m in messages)  # no English left
    assert counts() == before
    # the same run in English when asked
    r = fresh_app.test_cli_runner().invoke(args=["policy", "check", "--lang", "en", str(bad)])
    assert "did you mean finance (Finance)?" in r.output and "4 problem(s)" in r.output


def test_cli_locale_order(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from portal.policy.cli import cli_locale

    monkeypatch.delenv("PORTAL_LANG", raising=False)
    monkeypatch.delenv("LANG", raising=False)
    assert cli_locale() == "zh"
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert cli_locale() == "en"
    monkeypatch.setenv("PORTAL_LANG", "zh")
    assert cli_locale() == "zh"
    assert cli_locale("en") == "en"
    monkeypatch.setenv("PORTAL_LANG", "")
    monkeypatch.setenv("LANG", "POSIX")
    assert cli_locale() == "zh"


def test_check_lists_measures_taking_the_document_lead(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """姜堰 without the operator's confirmations: the twelve measures that name no unit
    take the document's lead, and the check lists each for confirmation."""
    data = yaml.safe_load((ROOT / "tenants" / "jiangyan.yaml").read_text(encoding="utf-8"))
    unconfirmed = []
    for m in data["measures"]:
        if "lead" in (m.get("inferred") or {}):
            m["lead"], m["cooperating"] = [], []
            del m["inferred"]["lead"]
            if not m["inferred"]:
                del m["inferred"]
            unconfirmed.append(m["number"])
    assert len(unconfirmed) == 12
    f = tmp_path / "jy.yaml"
    f.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    r = app.test_cli_runner().invoke(args=["policy", "check", "--lang", "zh", str(f)])
    assert r.exit_code == 0, r.output
    assert (
        "以下 12 条措施未写明责任单位，将由文件牵头单位 health（泰州市姜堰区卫生健康委员会）承担"
        in r.output
    )
    for number in unconfirmed:
        assert f"（措施 {number}）" in r.output
