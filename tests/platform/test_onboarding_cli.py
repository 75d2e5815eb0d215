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
            args=["tenants", "onboard", str(ROOT / "tenants" / f"{stem}.yaml"), "--slug", slug]
        )
        assert r.exit_code == 0, r.output
        assert f"onboarded {slug}" in r.output
        lead_signs_in(fresh_app, slug, f"{slug}-lead", temporary_password(r.output))
        assert_duties_for_current_period(fresh_app, slug, ROOT / "tenants" / f"{stem}.yaml")


def test_lead_username_option_and_dry_run(fresh_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner = fresh_app.test_cli_runner()
    path = ROOT / "tenants" / "jiading.yaml"
    before = _counts(fresh_app)
    r = runner.invoke(args=["tenants", "onboard", str(path), "--slug", "jd-x", "--dry-run"])
    assert r.exit_code == 0 and "nothing created" in r.output
    assert _counts(fresh_app) == before
    r = runner.invoke(
        args=["tenants", "onboard", str(path), "--slug", "jd-x", "--lead-username", "wang.lead"]
    )
    assert r.exit_code == 0, r.output
    lead_signs_in(fresh_app, "jd-x", "wang.lead", temporary_password(r.output))


def test_existing_slug_is_refused_and_nothing_created(fresh_app) -> None:  # type: ignore[no-untyped-def]
    runner = fresh_app.test_cli_runner()
    before = _counts(fresh_app)
    r = runner.invoke(args=["tenants", "onboard", str(ROOT / "tenants" / "kaifeng.yaml")])
    assert r.exit_code != 0
    assert "already taken" in r.output and "nothing was created" in r.output
    assert _counts(fresh_app) == before


def test_broken_yaml_names_the_line(fresh_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text("format_version: 1\ntenant: [unclosed\n", encoding="utf-8")
    r = fresh_app.test_cli_runner().invoke(args=["tenants", "onboard", str(bad)])
    assert r.exit_code != 0 and "line" in r.output


def test_export_then_onboard_round_trip_is_identical(fresh_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner = fresh_app.test_cli_runner()
    for stem in TEMPLATES:
        first = tmp_path / f"{stem}-first.yaml"
        r = runner.invoke(args=["tenants", "export", stem, "-o", str(first)])
        assert r.exit_code == 0, r.output
        r = runner.invoke(args=["tenants", "onboard", str(first), "--slug", f"{stem}-copy"])
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
    assert "10 departments, 10 measures, 8 benefit standards, meeting: yes" in r.output
    lead_signs_in(fresh_app, "dayi", "dayi-lead", temporary_password(r.output))
    assert_duties_for_current_period(fresh_app, "dayi", fixture)
    # the documented format is lossless: exporting gives back what the file said
    out = fresh_app.test_cli_runner().invoke(args=["tenants", "export", "dayi"])
    exported = yaml.safe_load(out.output)
    written = yaml.safe_load(fixture.read_text(encoding="utf-8"))
    for key in ("tenant", "departments", "policy", "measures", "meeting"):
        assert exported[key] == written[key], key
