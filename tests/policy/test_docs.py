"""docs/policy-format.md and docs/policy-schema.json stay in step with the validator."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from portal.policy import care_format, codes, entitlement, json_schema, policy_text, schema
from portal.policy.problems import Checker
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "policy-format.md").read_text(encoding="utf-8")


def _example() -> str:
    section = DOC.split("## Complete annotated example", 1)[1]
    return re.search(r"```yaml\n(.*?)```", section, re.S).group(1)


def test_the_complete_example_validates() -> None:
    data, problems = policy_text.parse_policy_text(_example())
    assert problems == [], [str(p) for p in problems]
    # it really shows the hard cases
    benefits = [b for m in data["measures"] for b in m.get("benefits") or []]
    assert any(len(b["values"]) > 1 for b in benefits)
    assert any(b.get("funding_split") for b in benefits)
    assert any(b.get("amount_is_floor") for b in benefits)
    assert {b.get("eligibility", {}).get("residence") for b in benefits} >= {"urban", "rural"}
    assert any(b.get("hours_per_month") and b["unit"] == "yuan_per_hour" for b in benefits)
    assert any(b.get("eligibility", {}).get("mother_min_age") for b in benefits)
    assert any(b.get("eligibility", {}).get("member_max_age") for b in benefits)
    rules = [b["entitlement"] for b in benefits if b.get("entitlement")]
    assert {r["basis"] for r in rules} == {"register", "claim"}
    assert any(r.get("in_kind") for r in rules) and any(r.get("once") for r in rules)


@pytest.mark.parametrize(
    "table",
    [
        codes.CATEGORIES,
        codes.UNITS,
        codes.FREQUENCIES,
        codes.FESTIVALS,
        codes.MAX_QUANTITY_UNITS,
        codes.FAMILY_TYPES,
        codes.RESIDENCES,
        codes.CADENCES,
        codes.STATUSES,
        codes.CLAUSES,
        codes.SPLIT_APPLIES_TO,
        codes.DEPARTMENT_KIND_CODES,
        entitlement.BASES,
        entitlement.PAYEES,
        entitlement.PERSONS,
        entitlement.PARTIAL_PERIODS,
        entitlement.ONCE,
        care_format.CONTACT_ROLES,
        care_format.CARE_FESTIVALS,
        care_format.CARE_CADENCES,
    ],
)
def test_every_code_is_documented(table) -> None:  # type: ignore[no-untyped-def]
    missing = [code for code in table if f"`{code}`" not in DOC]
    assert missing == []


def test_every_field_is_documented() -> None:
    for keys in (
        codes.TOP_KEYS,
        codes.TENANT_KEYS,
        codes.DEPARTMENT_KEYS,
        codes.POLICY_KEYS,
        codes.MEASURE_KEYS,
        codes.BENEFIT_KEYS,
        codes.ELIGIBILITY_KEYS,
        codes.VALUE_KEYS,
        codes.SPLIT_KEYS,
        codes.MEETING_KEYS,
        codes.LOCAL_KIND_KEYS,
        entitlement.ENTITLEMENT_KEYS,
        care_format.CARE_KEYS,
        care_format.CONTACTS_KEYS,
        care_format.FESTIVAL_VISIT_KEYS,
        care_format.DOCTOR_CONTACT_KEYS,
        care_format.CHECKUP_KEYS,
    ):
        assert [k for k in keys if f"`{k}`" not in DOC] == []


def test_documented_codes_are_all_accepted() -> None:
    """Each code row of the doc's tables (`code` | 中文 | English) is a real code."""
    known = (
        set(codes.CATEGORIES)
        | set(codes.UNITS)
        | set(codes.FREQUENCIES)
        | set(codes.FESTIVALS)
        | set(codes.MAX_QUANTITY_UNITS)
        | set(codes.CADENCES)
        | set(codes.STATUSES)
        | set(codes.CLAUSES)
        | codes.DEPARTMENT_KIND_CODES
        | codes.ELIGIBILITY_KEYS  # the eligibility table has the same shape
        | set(entitlement.BASES)
        | set(entitlement.PAYEES)
        | set(entitlement.PERSONS)
        | set(entitlement.PARTIAL_PERIODS)
        | set(care_format.CONTACT_ROLES)
        | set(care_format.CARE_FESTIVALS)
        | set(care_format.CARE_CADENCES)
    )
    rows = re.findall(r"^\| `([a-z_]+)` \| [^|]+ \| [^|]+ \|$", DOC, re.M)
    assert rows and [r for r in rows if r not in known] == []


def test_json_schema_file_is_current() -> None:
    on_disk = json.loads((ROOT / "docs" / "policy-schema.json").read_text(encoding="utf-8"))
    assert on_disk == json_schema.json_schema(), "regenerate docs/policy-schema.json"


def test_templates_match_the_json_schema_shape() -> None:
    """A light structural check of the JSON Schema against the templates (no extra keys)."""
    js = json_schema.json_schema()
    benefit_props = set(
        js["properties"]["measures"]["items"]["properties"]["benefits"]["items"]["properties"]
    )
    for stem in ("zhangdian", "jiangyan", "jiading", "kaifeng"):
        data = yaml.safe_load((ROOT / "tenants" / f"{stem}.yaml").read_text(encoding="utf-8"))
        assert set(data) <= set(js["properties"])
        for m in data["measures"]:
            for b in m.get("benefits") or []:
                assert set(b) <= benefit_props


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"basis": "register"}, "entitlement.partial_period"),  # monthly needs the rule
        ({"basis": "sometimes", "partial_period": "prorate_days"}, "entitlement.basis"),
        ({"basis": "register", "partial_period": "weekly"}, "entitlement.partial_period"),
        ({"basis": "claim", "once": "lifetime"}, "entitlement.once"),  # monthly, not one-off
        ({"basis": "claim", "reference": "无此标准"}, "entitlement.reference"),
        ({"basis": "claim", "top_up": 5}, "entitlement.top_up"),
        (
            {"basis": "claim", "any_of": [{"member_min_age": 70, "member_max_age": 60}]},
            "entitlement.any_of[0].member_max_age",
        ),
        ({"basis": "claim", "any_of": [{"residence": "urban"}]}, "entitlement.any_of[0].residence"),
        ({"basis": "claim", "inferred": {"payee": "猜的"}}, "entitlement.inferred.payee"),
    ],
)
def test_entitlement_mistakes_are_named(rule: dict, path: str) -> None:
    benefit = {
        "name": "特别扶助金",
        "unit": "yuan_per_person_month",
        "frequency": "monthly",
        "values": [{"amount": 100, "effective_from": "2024-01-01"}],
        "entitlement": rule,
    }
    c = Checker(None, {})
    schema._check_benefit(c, benefit, "b")
    assert any(p.path == f"b.{path}" for p in c.problems), [str(p) for p in c.problems]


def test_entitlement_reference_to_another_standard_is_accepted() -> None:
    data = yaml.safe_load(_example())
    benefits = data["measures"][1]["benefits"]
    benefits.append(
        {
            "name": "加发",
            "unit": "yuan_per_person_month",
            "frequency": "monthly",
            "values": [{"amount": 100, "effective_from": "2025-04-01"}],
            "entitlement": {
                "basis": "register",
                "partial_period": "prorate_days",
                "reference": benefits[0]["name"],
                "top_up": 100,
                "any_of": [{"family_types": ["bereaved"], "mother_min_age": 49}],
            },
        }
    )
    assert [str(p) for p in schema.validate_policy(data)] == []
