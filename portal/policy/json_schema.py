"""The JSON Schema of the policy file format (docs/policy-schema.json is generated from
it; a test keeps them equal), built from the same code tables the validator uses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from portal.policy.care_format import care_json_schema
from portal.policy.codes import (
    CADENCES,
    CATEGORIES,
    CLAUSES,
    FAMILY_TYPES,
    FESTIVALS,
    FORMAT_VERSION,
    FREQUENCIES,
    KEY_RE,
    LEVELS,
    MAX_QUANTITY_UNITS,
    RESIDENCES,
    SLUG_RE,
    SPLIT_APPLIES_TO,
    STATUSES,
    UNITS,
)
from portal.policy.entitlement import json_schema_part

# -- JSON Schema (docs/policy-schema.json is generated from this; a test keeps them equal) --


def json_schema() -> dict[str, Any]:
    """A JSON Schema of the file format, from the same code tables the validator uses."""

    def enum(table: Iterable[str]) -> dict[str, Any]:
        return {"type": "string", "enum": sorted(table)}

    text = {"type": "string"}
    texts = {"type": "array", "items": {"type": "string", "minLength": 1}}
    date = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
    age = {"type": "integer", "minimum": 0, "maximum": 120}
    key = {"type": "string", "pattern": KEY_RE.pattern}
    positive = {"type": "number", "exclusiveMinimum": 0}

    def obj(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": False,
        }

    benefit = obj(
        {
            "name": {**text, "maxLength": 200},
            "unit": enum(UNITS),
            "frequency": enum(FREQUENCIES),
            "festivals": {"type": "array", "items": enum(FESTIVALS)},
            "amount_is_floor": {"type": "boolean"},
            "amount_note": text,
            "max_quantity": {"type": "integer", "minimum": 1},
            "max_quantity_unit": enum(MAX_QUANTITY_UNITS),
            "hours_per_month": positive,
            "eligibility": obj(
                {
                    "family_types": {"type": "array", "items": enum(FAMILY_TYPES)},
                    "mother_min_age": age,
                    "member_min_age": age,
                    "member_max_age": age,
                    "residence": enum(RESIDENCES),
                    "disability_grade_max": {"type": "integer", "minimum": 1, "maximum": 4},
                    "conditions": texts,
                },
                [],
            ),
            "funding_split": {
                "type": "array",
                "items": obj(
                    {"level": {**text, "minLength": 1}, "share": positive}, ["level", "share"]
                ),
            },
            "funding_split_applies_to": enum(SPLIT_APPLIES_TO),
            "funding_note": text,
            "values": {
                "type": "array",
                "minItems": 1,
                "items": {
                    **obj(
                        {
                            "amount": positive,
                            "effective_from": date,
                            "in_force_before": date,
                            "source": {**text, "maxLength": 200},
                        },
                        ["amount"],
                    ),
                    "oneOf": [{"required": ["effective_from"]}, {"required": ["in_force_before"]}],
                },
            },
            "note": text,
            "entitlement": json_schema_part(enum, obj, texts, positive),
        },
        ["name", "unit", "frequency", "values"],
    )
    inferred = {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}}
    measure = obj(
        {
            "number": {"type": ["string", "integer"], "minLength": 1, "maxLength": 30},
            "clause": enum(CLAUSES),
            "category": enum(CATEGORIES),
            "title": {**text, "minLength": 1, "maxLength": 200},
            "text": text,
            "lead": {"type": "array", "items": key},
            "cooperating": {"type": "array", "items": key},
            "duty": {"type": "boolean"},
            "benefits": {"type": "array", "items": benefit},
            "inferred": inferred,
        },
        ["number", "category", "title"],
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://portal.example/policy-schema.json",
        "title": "District policy file (政策配置文件), format_version 1",
        "description": "Generated from portal/policy/schema.py; see docs/policy-format.md.",
        **obj(
            {
                "format_version": {"const": FORMAT_VERSION},
                "tenant": obj(
                    {
                        "slug": {"type": "string", "pattern": SLUG_RE.pattern},
                        "name": {**text, "minLength": 1, "maxLength": 100},
                        "name_en": {**text, "maxLength": 100},
                        "level": {"type": "string", "enum": list(LEVELS)},
                        "province": {**text, "minLength": 1, "maxLength": 40},
                    },
                    ["slug", "name", "level", "province"],
                ),
                "department_kinds": {
                    "type": "array",
                    "items": obj(
                        {
                            "code": key,
                            "name": {**text, "minLength": 1, "maxLength": 60},
                            "name_en": {**text, "maxLength": 60},
                        },
                        ["code", "name"],
                    ),
                },
                "departments": {
                    "type": "array",
                    "minItems": 1,
                    "items": obj(
                        {
                            "key": key,
                            "kind": {"type": "string", "pattern": KEY_RE.pattern},
                            "name": {**text, "minLength": 1, "maxLength": 120},
                        },
                        ["key", "kind", "name"],
                    ),
                },
                "policy": obj(
                    {
                        "title": {**text, "minLength": 1, "maxLength": 200},
                        "doc_number": {**text, "maxLength": 80},
                        "issuers": texts,
                        "issued_on": date,
                        "effective_from": date,
                        "effective_until": date,
                        "supersedes": texts,
                        "status": enum(STATUSES),
                        "source": {**text, "maxLength": 300},
                        "lead_department": key,
                        "member_departments": {"type": "array", "items": key},
                        "inferred": inferred,
                    },
                    ["title", "effective_from"],
                ),
                "measures": {"type": "array", "minItems": 1, "items": measure},
                "meeting": obj(
                    {
                        "name": {**text, "minLength": 1, "maxLength": 200},
                        "cadence": enum(CADENCES),
                        "chief_convener": {**text, "maxLength": 100},
                        "conveners": texts,
                        "office_department": {"type": ["string", "null"]},
                        "member_departments": {"type": "array", "items": key},
                        "note": text,
                        "inferred": inferred,
                    },
                    ["name"],
                ),
                "care": care_json_schema(obj, enum, inferred, FAMILY_TYPES),
            },
            ["format_version", "tenant", "departments", "policy", "measures"],
        ),
    }
