"""The policy file format's vocabulary: every allowed code with its Chinese and English
name (the tables are in `codes.yaml`), and the keys each level of the file allows
(docs/policy-format.md documents the same values; `tests/policy/test_docs.py` keeps the
two in step)."""

from __future__ import annotations

import decimal
import re
from pathlib import Path

import yaml

from portal.tenancy.models import DEPARTMENT_KINDS

FORMAT_VERSION = 1

_TABLES = yaml.safe_load(Path(__file__).with_name("codes.yaml").read_text(encoding="utf-8"))


def code_table(name: str) -> dict[str, tuple[str, str]]:
    """One table of `codes.yaml`: code → (Chinese, English), in the file's order (the
    tables are data, kept in one file so docs and code read the same list)."""
    return {code: (zh, en) for code, (zh, en) in _TABLES[name].items()}


CATEGORIES = code_table("CATEGORIES")
UNITS = code_table("UNITS")
FREQUENCIES = code_table("FREQUENCIES")
FESTIVALS = code_table("FESTIVALS")
MAX_QUANTITY_UNITS = code_table("MAX_QUANTITY_UNITS")
FAMILY_TYPES = code_table("FAMILY_TYPES")
RESIDENCES = code_table("RESIDENCES")
CADENCES = code_table("CADENCES")  # only the first three set a due date
CADENCE_MONTHS: dict[str, int] = {"semiannual": 6, "quarterly": 3, "yearly": 12}
STATUSES = code_table("STATUSES")
CLAUSES = code_table("CLAUSES")
SPLIT_APPLIES_TO = code_table("SPLIT_APPLIES_TO")

# The district levels (county-level divisions; 市 for a city that is itself a district).
LEVELS = ("区", "县", "县级市", "自治县", "旗", "市")
DEPARTMENT_KIND_CODES = {code for code, _zh, _en in DEPARTMENT_KINDS}
DEPARTMENT_KIND_LABELS: dict[str, tuple[str, str]] = {c: (zh, en) for c, zh, en in DEPARTMENT_KINDS}

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
MAX_AMOUNT = decimal.Decimal("9999999999.99")  # Numeric(12, 2)
MAX_HOURS = decimal.Decimal("999999.99")  # Numeric(8, 2)

TOP_KEYS = {
    "format_version",
    "tenant",
    "department_kinds",
    "departments",
    "policy",
    "measures",
    "meeting",
    "care",
}
LOCAL_KIND_KEYS = {"code", "name", "name_en"}
TENANT_KEYS = {"slug", "name", "name_en", "level", "province"}
DEPARTMENT_KEYS = {"key", "kind", "name"}
POLICY_KEYS = {
    "title",
    "doc_number",
    "issuers",
    "issued_on",
    "effective_from",
    "effective_until",
    "supersedes",
    "status",
    "source",
    "lead_department",
    "member_departments",
    "inferred",
}
MEASURE_KEYS = {
    "number",
    "clause",
    "category",
    "title",
    "text",
    "lead",
    "cooperating",
    "duty",
    "benefits",
    "inferred",
}
BENEFIT_KEYS = {
    "name",
    "unit",
    "frequency",
    "festivals",
    "amount_is_floor",
    "amount_note",
    "max_quantity",
    "max_quantity_unit",
    "hours_per_month",
    "eligibility",
    "funding_split",
    "funding_split_applies_to",
    "funding_note",
    "values",
    "note",
    "entitlement",  # how the benefits engine computes it: portal/policy/entitlement.py
}
ELIGIBILITY_KEYS = {
    "family_types",
    "mother_min_age",
    "member_min_age",
    "member_max_age",
    "residence",
    "disability_grade_max",
    "conditions",
}
VALUE_KEYS = {"amount", "effective_from", "in_force_before", "source"}
SPLIT_KEYS = {"level", "share"}
MEETING_KEYS = {
    "name",
    "cadence",
    "chief_convener",
    "conveners",
    "office_department",
    "member_departments",
    "note",
    "inferred",
}
