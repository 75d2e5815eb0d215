"""Onboarding from policy files through the CLI (issue 7)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
import yaml

from tests.conftest import ROOT
from tests.platform.helpers import (
    assert_duties_for_current_period,
    lead_signs_in,
    temporary_password,
)

TEMPLATES = ["kaifeng", "zhangdian", "jiangyan", "jiading"]


def _counts(app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from portal.auth.models import User
    from portal.extensions import db
    from portal.policy.models import Measure
    from portal.tenancy import scope
    from portal.tenancy.models import Department, Tenant

    with app.app_context(), scope.cross_tenant("test counts"):
        return {
            m.__name__: db.session.execute(sa.select(sa.func.count()).select_from(m)).scalar_one()
            for m in (Tenant, Department, Measure, User)
        }


def test_each_template_onboards_from_the_cli_and_works(fresh_app) -> None:  # type: ignore[no-untyped-def]
    runner = fresh_app.test_cli_runner()
    for stem in TEMPLATES:
        slug = f"{stem}-new"
        r = runner.invoke(
            args=["tenants", "onboard", "--template", stem, "--slug", slug]
            + ["--name", f"测试{stem}区", "--level", "区"]
        )
        assert r.exit_code == 0, r.output
        assert f"已接入 {slug}（测试{stem}区）" in r.output
        assert "注意" not in r.output  # a new name: no duplicate warning
        lead_signs_in(fresh_app, slug, f"{slug}-lead", temporary_password(r.output))
        assert_duties_for_current_period(fresh_app, slug, ROOT / "tenants" / f"{stem}.yaml")
    with fresh_app.app_context():
        from portal.platform.services import tenant_by_slug

        tenant = tenant_by_slug("kaifeng-new")
        assert tenant is not None and (tenant.name, tenant.level) == ("测试kaifeng区", "区")


def test_lead_username_option_and_dry_run(fresh_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner = fresh_app.test_cli_runner()
    path = ROOT / "tenants" / "jiading.yaml"
    named = ["--name", "测试区", "--level", "区"]
    before = _counts(fresh_app)
    r = runner.invoke(args=["tenants", "onboard", str(path), "--slug", "jd-x", "--dry-run", *named])
    assert r.exit_code == 0 and "试运行：未创建任何内容" in r.output
    assert _counts(fresh_app) == before
    r = runner.invoke(
        args=["tenants", "onboard", str(path), "--slug", "jd-x", "--lead-username", "wang.lead"]
        + named
    )
    assert r.exit_code == 0, r.output
    lead_signs_in(fresh_app, "jd-x", "wang.lead", temporary_password(r.output))


def test_template_asks_name_slug_and_level_and_warns_of_a_duplicate_name(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """The prompts (Chinese), the duplicate-name warning, and a slug asked again after a
    clash while the typed name and level are kept."""
    runner = fresh_app.test_cli_runner()
    before = _counts(fresh_app)
    # Enter keeps the template's own name 开封市 and slug kaifeng: both are taken.
    r = runner.invoke(args=["tenants", "onboard", "--template", "kaifeng"], input="\n\n\n")
    assert "新区县名称 [开封市]" in r.output and "级别（区、县、县级市" in r.output
    assert "标识 kaifeng 已被使用" in r.output and "请输入新的标识" in r.output
    assert r.exit_code != 0 and "未创建任何内容" in r.output  # no answer: nothing created
    assert _counts(fresh_app) == before
    # same name, a new slug after the clash, and no to the duplicate warning
    r = runner.invoke(
        args=["tenants", "onboard", "--template", "kaifeng"], input="\nkaifeng\n市\nkf-two\nn\n"
    )
    assert "已有同名区县“开封市”（标识 kaifeng）" in r.output and "仍要创建吗？" in r.output
    assert r.exit_code != 0 and "未创建任何内容" in r.output
    assert _counts(fresh_app) == before
    # a new name and level typed, a clashing slug corrected: created with what was typed
    r = runner.invoke(
        args=["tenants", "onboard", "--template", "kaifeng"], input="兰考县\nkaifeng\n县\nlankao\n"
    )
    assert r.exit_code == 0, r.output
    assert "兰考县（lankao，县）" in r.output and "已接入 lankao（兰考县）" in r.output
    with fresh_app.app_context():
        from portal.platform.services import tenant_by_slug

        tenant = tenant_by_slug("lankao")
        assert tenant is not None and (tenant.name, tenant.level) == ("兰考县", "县")
    # an unknown level is refused by the prompt itself
    r = runner.invoke(
        args=["tenants", "onboard", "--template", "jiading", "--name", "x区", "--slug", "x-q"],
        input="州\n",
    )
    assert r.exit_code != 0 and "未创建任何内容" in r.output


def test_tenants_commands_speak_chinese_unless_asked(fresh_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("PORTAL_LANG", raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    runner = fresh_app.test_cli_runner()
    r = runner.invoke(args=["tenants", "list"])
    assert r.exit_code == 0 and r.output.startswith("标识") and " 启用 " in r.output
    r = runner.invoke(args=["tenants", "suspend", "no-such"])
    assert r.exit_code != 0 and "错误：没有标识为 no-such 的区县" in r.output
    r = runner.invoke(args=["tenants", "restore", "jiading"])  # refused by the lifecycle rule
    assert r.exit_code != 0 and r.output.startswith("错误：") and "Error" not in r.output
    r = runner.invoke(args=["tenants", "onboard"])
    assert r.exit_code != 0 and "请指定政策文件或 --template 模板" in r.output
    dayi = str(ROOT / "tests" / "fixtures" / "dayi.yaml")
    r = runner.invoke(args=["policy", "load", "no-such", dayi])
    assert r.exit_code != 0 and "错误：" in r.output and "no-such" in r.output
    assert "Error" not in r.output
    r = runner.invoke(args=["tenants", "list", "--lang", "en"])
    assert r.output.startswith("slug") and "active" in r.output
    monkeypatch.setenv("PORTAL_LANG", "en")
    r = runner.invoke(args=["tenants", "restore", "jiading"])
    assert r.exit_code != 0 and r.output.startswith("Error: ")
    r = runner.invoke(args=["tenants", "onboard", "--template", "nope"])
    assert "no template named nope" in r.output


def test_existing_slug_is_refused_and_nothing_created(fresh_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner = fresh_app.test_cli_runner()
    before = _counts(fresh_app)
    copy = tmp_path / "kaifeng.yaml"  # not a template: no prompts, but the slug is asked again
    copy.write_text((ROOT / "tenants" / "kaifeng.yaml").read_text(encoding="utf-8"), "utf-8")
    r = runner.invoke(args=["tenants", "onboard", str(copy)])
    assert r.exit_code != 0
    assert "已被使用" in r.output and "未创建任何内容" in r.output
    assert _counts(fresh_app) == before


def test_broken_yaml_names_the_line(fresh_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text("format_version: 1\ntenant: [unclosed\n", encoding="utf-8")
    r = fresh_app.test_cli_runner().invoke(args=["tenants", "onboard", str(bad)])
    assert r.exit_code != 0 and "方括号 [ 没有闭合" in r.output and "第 2 行" in r.output
    assert "tenant" in r.output and "未创建任何内容" in r.output


def test_export_then_onboard_round_trip_is_identical(fresh_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner = fresh_app.test_cli_runner()
    for stem in TEMPLATES:
        first = tmp_path / f"{stem}-first.yaml"
        r = runner.invoke(args=["tenants", "export", stem, "-o", str(first)])
        assert r.exit_code == 0, r.output
        r = runner.invoke(
            args=["tenants", "onboard", str(first), "--slug", f"{stem}-copy", "--yes"]
        )
        assert r.exit_code == 0, r.output
        second = tmp_path / f"{stem}-second.yaml"
        r = runner.invoke(args=["tenants", "export", f"{stem}-copy", "-o", str(second)])
        assert r.exit_code == 0, r.output
        a = yaml.safe_load(first.read_text(encoding="utf-8"))
        b = yaml.safe_load(second.read_text(encoding="utf-8"))
        assert b["tenant"].pop("slug") == f"{stem}-copy"
        a["tenant"].pop("slug")
        assert a == b, stem
        # and the export says the same as the template it was loaded from
        template = yaml.safe_load((ROOT / "tenants" / f"{stem}.yaml").read_text(encoding="utf-8"))
        for key in ("tenant", "departments", "measures"):
            template["tenant"].pop("slug", None)
            assert a[key] == template[key], (stem, key)


def test_fifth_district_from_the_docs_onboards_from_the_cli(fresh_app) -> None:  # type: ignore[no-untyped-def]
    fixture = ROOT / "tests" / "fixtures" / "dayi.yaml"
    r = fresh_app.test_cli_runner().invoke(args=["tenants", "onboard", str(fixture)])
    assert r.exit_code == 0, r.output
    assert "10 个单位，10 条措施，8 项扶助标准，联席会议：有" in r.output
    lead_signs_in(fresh_app, "dayi", "dayi-lead", temporary_password(r.output))
    assert_duties_for_current_period(fresh_app, "dayi", fixture)
    # the documented format is lossless: exporting gives back what the file said
    out = fresh_app.test_cli_runner().invoke(args=["tenants", "export", "dayi"])
    exported = yaml.safe_load(out.output)
    written = yaml.safe_load(fixture.read_text(encoding="utf-8"))
    for key in ("tenant", "departments", "policy", "measures", "meeting"):
        assert exported[key] == written[key], key
