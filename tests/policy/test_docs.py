"""docs/policy-format.md and docs/policy-schema.json stay in step with the validator."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from portal.policy import care_format, schema
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "policy-format.md").read_text(encoding="utf-8")


def _example() -> str:
    section = DOC.split("## Complete annotated example", 1)[1]
    return re.search(r"```yaml\n(.*?)```", section, re.S).group(1)


def test_the_complete_example_validates() -> None:
    data, problems = schema.parse_policy_text(_example())
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


@pytest.mark.parametrize(
    "table",
    [
        schema.CATEGORIES,
        schema.UNITS,
        schema.FREQUENCIES,
        schema.FESTIVALS,
        schema.MAX_QUANTITY_UNITS,
        schema.FAMILY_TYPES,
        schema.RESIDENCES,
        schema.CADENCES,
        schema.STATUSES,
        schema.CLAUSES,
        schema.SPLIT_APPLIES_TO,
        schema.DEPARTMENT_KIND_CODES,
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
        schema.TOP_KEYS,
        schema.TENANT_KEYS,
        schema.DEPARTMENT_KEYS,
        schema.POLICY_KEYS,
        schema.MEASURE_KEYS,
        schema.BENEFIT_KEYS,
        schema.ELIGIBILITY_KEYS,
        schema.VALUE_KEYS,
        schema.SPLIT_KEYS,
        schema.MEETING_KEYS,
        schema.LOCAL_KIND_KEYS,
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
        set(schema.CATEGORIES)
        | set(schema.UNITS)
        | set(schema.FREQUENCIES)
        | set(schema.FESTIVALS)
        | set(schema.MAX_QUANTITY_UNITS)
        | set(schema.CADENCES)
        | set(schema.STATUSES)
        | set(schema.CLAUSES)
        | schema.DEPARTMENT_KIND_CODES
        | schema.ELIGIBILITY_KEYS  # the eligibility table has the same shape
        | set(care_format.CONTACT_ROLES)
        | set(care_format.CARE_FESTIVALS)
        | set(care_format.CARE_CADENCES)
    )
    rows = re.findall(r"^\| `([a-z_]+)` \| [^|]+ \| [^|]+ \|$", DOC, re.M)
    assert rows and [r for r in rows if r not in known] == []


def test_json_schema_file_is_current() -> None:
    on_disk = json.loads((ROOT / "docs" / "policy-schema.json").read_text(encoding="utf-8"))
    assert on_disk == schema.json_schema(), "regenerate docs/policy-schema.json"


def test_templates_match_the_json_schema_shape() -> None:
    """A light structural check of the JSON Schema against the templates (no extra keys)."""
    js = schema.json_schema()
    benefit_props = set(
        js["properties"]["measures"]["items"]["properties"]["benefits"]["items"]["properties"]
    )
    for stem in ("zhangdian", "jiangyan", "jiading", "kaifeng"):
        data = yaml.safe_load((ROOT / "tenants" / f"{stem}.yaml").read_text(encoding="utf-8"))
        assert set(data) <= set(js["properties"])
        for m in data["measures"]:
            for b in m.get("benefits") or []:
                assert set(b) <= benefit_props
