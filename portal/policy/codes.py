"""The policy file format's vocabulary: every allowed code with its Chinese and English
name, and the keys each level of the file allows (docs/policy-format.md documents the
same values; `tests/policy/test_docs.py` keeps the two in step)."""

from __future__ import annotations

import decimal
import re

from portal.tenancy.models import DEPARTMENT_KINDS

FORMAT_VERSION = 1

CATEGORIES: dict[str, tuple[str, str]] = {
    "economic_aid": ("经济扶助", "Economic aid"),
    "medical": ("医疗", "Medical care"),
    "elderly_care": ("养老", "Elderly care"),
    "rebirth": ("再生育", "Re-birth support"),
    "housing": ("住房", "Housing"),
    "legal_aid": ("法律援助", "Legal aid"),
    "emotional_support": ("精神慰藉", "Emotional support"),
    "funeral": ("殡葬", "Funeral"),
    "education": ("教育", "Education"),
    "employment": ("就业", "Employment"),
    "contact_person": ("联系人制度", "Contact persons"),
    "publicity": ("宣传", "Publicity"),
    "insurance": ("保险", "Insurance"),
    "social_care": ("社会关怀", "Social care"),
    "rehabilitation": ("康复", "Rehabilitation"),
    "organisation": ("组织保障", "Organisation"),
    "other": ("其他", "Other"),
}

UNITS: dict[str, tuple[str, str]] = {
    "yuan_per_person_month": ("元/人/月", "yuan per person per month"),
    "yuan_per_person_year": ("元/人/年", "yuan per person per year"),
    "yuan_per_person_day": ("元/人/日", "yuan per person per day"),
    "yuan_per_person_time": ("元/人/次", "yuan per person per time"),
    "yuan_per_person": ("元/人（一次性）", "yuan per person (once)"),
    "yuan_per_household_month": ("元/户/月", "yuan per household per month"),
    "yuan_per_household_year": ("元/户/年", "yuan per household per year"),
    "yuan_per_household_time": ("元/户/次", "yuan per household per time"),
    "yuan_per_household": ("元/户（一次性）", "yuan per household (once)"),
    "yuan_per_couple": ("元/对（夫妻）", "yuan per couple"),
    "yuan_per_hour": ("元/小时", "yuan per hour"),
    "yuan_per_time": ("元/次", "yuan per time"),
    "yuan_per_month": ("元/月", "yuan per month"),
    "yuan_per_year": ("元/年", "yuan per year"),
}

FREQUENCIES: dict[str, tuple[str, str]] = {
    "one_off": ("一次性", "one-off"),
    "monthly": ("按月", "monthly"),
    "quarterly": ("按季", "quarterly"),
    "yearly": ("按年", "yearly"),
    "daily": ("按日", "daily"),
    "per_event": ("按次", "per event"),
    "festival": ("节日", "on festivals"),
}

FESTIVALS: dict[str, tuple[str, str]] = {
    "spring_festival": ("春节", "Spring Festival"),
    "mid_autumn": ("中秋", "Mid-Autumn Festival"),
    "double_ninth": ("重阳", "Double Ninth Festival"),
    "mothers_day": ("母亲节", "Mother's Day"),
    "other": ("其他节日", "other festival"),
}

MAX_QUANTITY_UNITS: dict[str, tuple[str, str]] = {
    "days_per_year": ("天/年", "days per year"),
    "times_per_year": ("次/年", "times per year"),
    "hours_per_month": ("小时/月", "hours per month"),
    "times": ("次", "times"),
}

FAMILY_TYPES: dict[str, tuple[str, str]] = {
    "bereaved": ("失独", "only child died"),
    "disabled_child": ("伤残", "only child disabled"),
    "surgery_complication": ("手术并发症", "surgery complication"),
}

RESIDENCES: dict[str, tuple[str, str]] = {
    "urban": ("城镇", "urban"),
    "rural": ("农村", "rural"),
    "local": ("本地户籍", "local residence"),
}

# The cadence vocabulary (the one list: meetings, the console and the docs use it).
# Only the first three set a due date; `ad_hoc` (根据工作需要) never makes a meeting due.
CADENCES: dict[str, tuple[str, str]] = {
    "semiannual": ("每半年", "every half-year"),
    "quarterly": ("每季度", "every quarter"),
    "yearly": ("每年", "every year"),
    "ad_hoc": ("根据工作需要", "as needed"),
}
CADENCE_MONTHS: dict[str, int] = {"semiannual": 6, "quarterly": 3, "yearly": 12}

# A document's status. The rule on duties is `portal.policy.rules.generates_duties`.
STATUSES: dict[str, tuple[str, str]] = {
    "draft": ("征求意见稿", "draft for comment"),
    "trial": ("试行", "trial"),
    "in_force": ("正式", "final"),
}

# What a numbered item of the document is. Only a `measure` can create duties.
CLAUSES: dict[str, tuple[str, str]] = {
    "measure": ("措施", "measure"),
    "general": ("一般性条款", "general provision"),
    "interpretation": ("解释权条款", "interpretation clause"),
    "effective_date": ("施行日期条款", "effective-date clause"),
    "repeal": ("废止条款", "repeal clause"),
}

# Which part of an amount a funding split covers.
SPLIT_APPLIES_TO: dict[str, tuple[str, str]] = {
    "whole": ("全部金额", "the whole amount"),
    "increase": ("提标增加部分", "the increase only"),
}

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
