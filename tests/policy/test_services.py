"""Loading, validating and exporting a district's policy (issue 4, policy configuration)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
import yaml

from tests.conftest import ROOT

TEMPLATES = ["zhangdian", "jiangyan", "jiading", "kaifeng"]


def _text(stem: str) -> str:
    return (ROOT / "tenants" / f"{stem}.yaml").read_text(encoding="utf-8")


def _policy_counts() -> dict[str, int]:
    from portal.extensions import db
    from portal.policy import models as pm
    from portal.tenancy import scope
    from portal.tenancy.models import Department, Tenant

    with scope.cross_tenant("test counts"):
        return {
            m.__name__: db.session.execute(sa.select(sa.func.count()).select_from(m)).scalar_one()
            for m in (
                Tenant,
                Department,
                pm.PolicyDocument,
                pm.PolicyVersion,
                pm.Measure,
                pm.MeasureResponsibility,
                pm.BenefitStandard,
                pm.BenefitValue,
                pm.MeetingArrangement,
            )
        }


def _new_tenant(slug: str):  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    with scope.cross_tenant("test tenant"):
        tenant = Tenant(slug=slug, name=slug, level="区", province="测试省")
        db.session.add(tenant)
        db.session.commit()
    return tenant


@pytest.mark.parametrize("stem", TEMPLATES)
def test_template_validates_without_problems(stem: str) -> None:
    from portal.policy.services import parse_policy_text

    data, problems = parse_policy_text(_text(stem))
    assert data is not None
    assert problems == []


def test_demo_export_equals_each_template(app) -> None:  # type: ignore[no-untyped-def]
    """The four files load (the demo loaded them) and export gives back exactly the file."""
    from portal.policy.services import export_policy
    from portal.tenancy.services import get_tenant

    with app.app_context():
        for stem in TEMPLATES:
            exported = export_policy(get_tenant(stem))
            template = yaml.safe_load(_text(stem))
            assert exported == template, stem


def test_export_load_export_is_identical(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.policy.services import export_policy, load_policy
    from portal.tenancy import scope
    from portal.tenancy.services import get_tenant

    with fresh_app.app_context():
        first = export_policy(get_tenant("kaifeng"))
        text = yaml.safe_dump(first, allow_unicode=True, sort_keys=False)
        tenant = _new_tenant("kf-copy")
        with scope.tenant_scope(tenant.id):
            load_policy(tenant, yaml.safe_load(text))
            db.session.commit()
        second = export_policy(tenant)
        first["tenant"] = second["tenant"] = None
        assert first == second


def _broken_kaifeng() -> str:
    text = _text("kaifeng")
    replacements = [
        ("kind: finance", "kind: finanse"),  # unknown department kind
        ("amount: 1430", "amount: -1430"),  # negative amount
        ("effective_from: 2023-08-01\n  supersedes", "effective_from: 2023-02-30\n  supersedes"),
        ("category: housing", "category: houses"),  # unknown category
        ("    lead:\n      - housing\n", "    lead:\n      - housing_bureau\n"),  # not in roster
        ('number: "13"', 'number: "12"'),  # duplicate number
        ("unit: yuan_per_person_day", "unit: yuan_per_day"),  # unknown unit
        ("frequency: yearly", "frequency: annually"),  # unknown frequency
    ]
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def test_broken_file_lists_every_problem_with_path_line_and_both_languages() -> None:
    from portal.policy.services import parse_policy_text

    data, problems = parse_policy_text(_broken_kaifeng())
    by_path = {p.path: p for p in problems}
    assert set(by_path) == {
        "departments[1].kind",
        "measures[2].benefits[0].values[1].amount",
        "policy.effective_from",
        "measures[12].category",
        "measures[12].lead[0]",
        "measures[14].number",
        "measures[7].benefits[1].unit",
        "measures[7].benefits[0].frequency",
    }, [str(p) for p in problems]
    amount = by_path["measures[2].benefits[0].values[1].amount"]
    assert amount.message_en == "must be a positive number"
    assert amount.message_zh == "必须为正数"
    lines = _broken_kaifeng().splitlines()
    assert "amount: -1430" in lines[amount.line - 1]
    assert all(p.line for p in problems)
    assert "housing_bureau" in lines[by_path["measures[12].lead[0]"].line - 1]


def test_broken_file_is_rejected_and_nothing_is_written(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.policy.services import PolicyInvalid, load_policy, parse_policy_text
    from portal.tenancy.services import get_tenant

    broken, _problems = parse_policy_text(_broken_kaifeng().replace("2023-02-30", "2023-13-01"))
    with fresh_app.app_context():
        before = _policy_counts()
        tenant = get_tenant("kaifeng")
        with pytest.raises(PolicyInvalid) as e:
            load_policy(tenant, broken)
        db.session.commit()  # even a commit afterwards writes nothing
        assert len(e.value.problems) == 8
        assert _policy_counts() == before


def test_yaml_syntax_error_has_a_line() -> None:
    from portal.policy.services import parse_policy_text

    data, problems = parse_policy_text("format_version: 1\ntenant: [unclosed\n")
    assert data is None and problems[0].line == 2 and problems[0].path == "tenant"
    assert "方括号 [ 没有闭合" in problems[0].message_zh
    # the broken line is left out and reading goes on: what is missing is listed too,
    # but not the section on the broken line
    assert all(p.path != "tenant" or p is problems[0] for p in problems)


def test_duplicate_yaml_key_and_unknown_field_are_reported() -> None:
    from portal.policy.services import parse_policy_text

    text = _text("jiading").replace(
        "format_version: 1", "format_version: 1\nformat_version: 1\nextra: x", 1
    )
    _data, problems = parse_policy_text(text)
    assert {p.path for p in problems} == {"format_version", "extra"}


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d["policy"].update(effective_until="2020-01-01"), "policy.effective_until"),
        (lambda d: d["tenant"].update(slug="Bad Slug"), "tenant.slug"),
        (lambda d: d["tenant"].update(level="省"), "tenant.level"),
        (
            lambda d: d["departments"].append({**d["departments"][0], "name": "x"}),
            "departments[16].key",
        ),
        (lambda d: d["meeting"].update(office_department="nobody"), "meeting.office_department"),
        (
            lambda d: d["measures"][2]["benefits"][0].update(
                values=[
                    {"amount": 2, "effective_from": "2024-01-01"},
                    {"amount": 1, "effective_from": "2023-01-01"},
                ]
            ),
            "measures[2].benefits[0].values[1].effective_from",
        ),
        (
            lambda d: d["measures"][2]["benefits"][0]["eligibility"].update(mother_min_age="49"),
            "measures[2].benefits[0].eligibility.mother_min_age",
        ),
        (
            lambda d: d["measures"][2]["benefits"][0]["eligibility"].update(
                family_types=["orphan"]
            ),
            "measures[2].benefits[0].eligibility.family_types[0]",
        ),
        (
            lambda d: d["measures"][2]["benefits"][0].update(hours_per_month=20),
            "measures[2].benefits[0].unit",
        ),
        (
            lambda d: d["measures"][2]["benefits"][0].update(festivals=["spring_festival"]),
            "measures[2].benefits[0].festivals",
        ),
        (
            lambda d: d["measures"][2]["benefits"][0].update(values=[]),
            "measures[2].benefits[0].values",
        ),
        (lambda d: d["measures"][3].update(lead=[], cooperating=[]), "measures[3].lead"),
        (lambda d: d.update(format_version=2), "format_version"),
    ],
)
def test_single_mistakes_are_named(mutate, path: str) -> None:  # type: ignore[no-untyped-def]
    from portal.policy.services import validate_policy

    data = yaml.safe_load(_text("kaifeng"))
    mutate(data)
    problems = validate_policy(data)
    assert [p.path for p in problems] == [path], [str(p) for p in problems]


def test_current_version_and_expiry(app) -> None:  # type: ignore[no-untyped-def]
    from portal.policy.services import current_version, expiry_warning
    from portal.tenancy import scope
    from portal.tenancy.services import get_tenant

    with app.app_context():
        with scope.tenant_scope(get_tenant("zhangdian").id):
            assert current_version(dt.date(2025, 6, 1)) is not None
            assert current_version(dt.date(2026, 11, 25)) is None
            warning = expiry_warning(dt.date(2026, 11, 25))
            assert warning is not None and warning.expired
            soon = expiry_warning(dt.date(2025, 11, 1))
            assert soon is not None and not soon.expired and soon.days_left == 67
            assert expiry_warning(dt.date(2025, 1, 1)) is None
        with scope.tenant_scope(get_tenant("kaifeng").id):
            version = current_version(dt.date(2026, 11, 25))
            assert version is not None and version.doc_number == "汴政办〔2023〕24号"
            assert expiry_warning(dt.date(2026, 11, 25)) is None


def test_a_district_kind_of_its_own_loads_and_round_trips(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """A unit that existed when the document was written (人口和计划生育委员会) gets a
    kind of the district's own; the check suggests it for a misspelling; export gives
    the file back."""
    from portal.extensions import db
    from portal.policy.schema import validate_policy
    from portal.policy.services import export_policy, load_policy
    from portal.tenancy import scope
    from portal.tenancy.models import Department
    from portal.tenancy.services import get_tenant

    data = yaml.safe_load(_text("jiading"))
    data["department_kinds"] = [
        {"code": "population_family_planning", "name": "人口和计划生育委员会"}
    ]
    data["departments"].append(
        {
            "key": "population_family_planning",
            "kind": "population_family_plannin",
            "name": "上海市嘉定区人口和计划生育委员会",
        }
    )
    problems = validate_policy(data)
    assert [p.path for p in problems] == [f"departments[{len(data['departments']) - 1}].kind"]
    assert "是否应为 population_family_planning（人口和计划生育委员会）" in problems[0].message_zh
    data["departments"][-1]["kind"] = "population_family_planning"
    data["measures"][-1]["cooperating"].append("population_family_planning")
    assert validate_policy(data) == []
    data["policy"]["effective_from"] = dt.date(2026, 7, 1)
    with fresh_app.app_context():
        tenant = get_tenant("jiading")
        with scope.tenant_scope(tenant.id):
            load_policy(tenant, data)
            db.session.commit()
            row = db.session.execute(
                sa.select(Department).filter_by(key="population_family_planning")
            ).scalar_one()
            assert row.kind_code == "other"  # stored under `other`, named by the district
            exported = export_policy(tenant)
    assert exported["department_kinds"] == data["department_kinds"]
    assert {
        "key": "population_family_planning",
        "kind": "population_family_planning",
        "name": "上海市嘉定区人口和计划生育委员会",
    } in exported["departments"]
