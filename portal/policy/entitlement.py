"""The `entitlement:` block of a benefit standard: how the engine computes what is owed.

The rest of a benefit (`unit`, `frequency`, `eligibility`, `values`, `funding_split`)
says what the document promises; this block says how a computer turns the register into
lines, and only where the document (or a marked inference) says so:

- `basis`: `register` (computed every cycle from confirmed register data) or `claim`
  (entered per event with evidence: hospital days, one-off grants, anything whose
  conditions the register cannot check);
- `payee`: the person, the household, or an institution (an insurer, a care home);
- `persons`: for per-person units, which members count (`parents`, `members`, `woman`);
- `any_of`: alternative eligibility groups (OR), each shaped like `eligibility` (AND);
- `alive`: the person must be alive (default true);
- `partial_period`: the rule for a month in which eligibility starts or ends;
- `due_month`: the month a yearly line falls due (1–12);
- `once`: `lifetime` — a one-off grant refused the second time;
- `in_kind`: a service counted, not paid (fee waivers, check-ups, priority services);
- `reference` + `top_up`: the amount is another standard's amount plus a top-up;
- `inferred`: `{field: reason}` for values the document does not state.

Vocabulary and validation live here (policy layer) so that both the validator and the
benefits engine read the same codes.
"""

from __future__ import annotations

import decimal
from typing import Any

from portal.policy.codes import code_table

ENTITLEMENT_KEYS = {
    "basis",
    "payee",
    "persons",
    "any_of",
    "alive",
    "partial_period",
    "due_month",
    "once",
    "in_kind",
    "reference",
    "top_up",
    "inferred",
}

# The codes with their names (`codes.yaml`).
BASES = code_table("BASES")
PAYEES = code_table("PAYEES")
PERSONS = code_table("PERSONS")
PARTIAL_PERIODS = code_table("PARTIAL_PERIODS")
ONCE = code_table("ONCE")

GROUP_KEYS = {
    "family_types",
    "mother_min_age",
    "member_min_age",
    "member_max_age",
    "disability_grade_max",
}


def check_entitlement(c: Any, e: Any, p: str, benefit: dict, names: set[str]) -> None:
    """Report every problem of one `entitlement` block (`c` is the schema's checker)."""
    from portal.policy.codes import FREQUENCIES, MAX_AMOUNT, UNITS
    from portal.policy.schema import _check_inferred

    if not c.mapping(e, p, ENTITLEMENT_KEYS, ("basis",)):
        return
    basis = c.code(e, "basis", p, BASES, ("计算方式", "basis"))
    c.code(e, "payee", p, PAYEES, ("领取人", "payee"))
    persons = c.code(e, "persons", p, PERSONS, ("计发人员", "persons"))
    # Checks against the unit and frequency only when those are valid (reported once).
    unit = benefit.get("unit") if benefit.get("unit") in UNITS else None
    frequency = benefit.get("frequency") if benefit.get("frequency") in FREQUENCIES else None
    if persons and unit and "person" not in unit:
        c.add(f"{p}.persons", "只用于按人计的单位", "only for per-person units")
    c.boolean(e, "alive", p)
    c.boolean(e, "in_kind", p)
    partial = c.code(e, "partial_period", p, PARTIAL_PERIODS, ("不足月规则", "partial-period rule"))
    if basis == "register" and frequency == "monthly" and partial is None:
        c.add(
            f"{p}.partial_period",
            "按名册按月计算时必须写明不足月规则（文件未写明的，写推定理由）",
            "is required for a monthly benefit computed from the register "
            "(mark it inferred with the reason when the document is silent)",
        )
    if partial and frequency and frequency != "monthly":
        c.add(f"{p}.partial_period", "只用于按月发放", "only for monthly benefits")
    month = c.integer(e, "due_month", p, 1, 12)
    if basis == "register" and frequency == "yearly" and month is None:
        c.add(
            f"{p}.due_month",
            "按名册按年计算时必须写明发放月份",
            "is required for a yearly benefit computed from the register",
        )
    if basis == "register" and frequency and frequency not in ("monthly", "yearly"):
        c.add(
            f"{p}.basis",
            "按名册计算只用于按月或按年发放；其余按申领",
            "register computation is for monthly or yearly benefits; others are claims",
        )
    once = c.code(e, "once", p, ONCE, ("次数限制", "limit"))
    if once and frequency and frequency != "one_off":
        c.add(f"{p}.once", "只用于一次性发放", "only for one-off benefits")
    groups = c.list_of(e, "any_of", p)
    for j, g in enumerate(groups):
        gp = f"{p}.any_of[{j}]"
        if not c.mapping(g, gp, GROUP_KEYS, ()):
            continue
        if not g:
            c.add(gp, "不能为空", "must not be empty")
        check_family_and_ages(c, g, gp)
        c.integer(g, "disability_grade_max", gp, 1, 4)
    ref = c.text(e, "reference", p, max_len=200)
    if ref is not None and ref not in names:
        c.add(
            f"{p}.reference",
            f"文件中没有名为“{ref}”的扶助标准",
            f"no benefit standard in the file is named {ref!r}",
        )
    if ref is not None and ref == benefit.get("name"):
        c.add(f"{p}.reference", "不能引用自身", "must not refer to itself")
    top = e.get("top_up")
    if top is not None:
        if ref is None:
            c.add(f"{p}.top_up", "只能与 reference 一起使用", "only allowed with reference")
        if isinstance(top, bool) or not isinstance(top, int | float | str):
            c.add(f"{p}.top_up", "必须是数字", "must be a number")
        else:
            try:
                d = decimal.Decimal(str(top))
                if not d.is_finite() or d < 0 or d > MAX_AMOUNT:
                    raise decimal.InvalidOperation
            except decimal.InvalidOperation:
                c.add(f"{p}.top_up", "必须是不小于 0 的数字", "must be a number not below 0")
    _check_inferred(c, e, p, ENTITLEMENT_KEYS - {"inferred"})


def benefit_names(data: Any) -> set[str]:
    """Every benefit's name in a policy file (the targets `reference` may name)."""
    out: set[str] = set()
    for m in (data or {}).get("measures") or [] if isinstance(data, dict) else []:
        if isinstance(m, dict):
            for b in m.get("benefits") or []:
                if isinstance(b, dict) and isinstance(b.get("name"), str):
                    out.add(b["name"])
    return out


def json_schema_part(enum: Any, obj: Any, texts: Any, positive: Any) -> dict[str, Any]:
    """The `entitlement` object for docs/policy-schema.json."""
    age = {"type": "integer", "minimum": 0, "maximum": 120}
    from portal.policy.codes import FAMILY_TYPES

    group = obj(
        {
            "family_types": {"type": "array", "items": enum(FAMILY_TYPES)},
            "mother_min_age": age,
            "member_min_age": age,
            "member_max_age": age,
            "disability_grade_max": {"type": "integer", "minimum": 1, "maximum": 4},
        },
        [],
    )
    return obj(
        {
            "basis": enum(BASES),
            "payee": enum(PAYEES),
            "persons": enum(PERSONS),
            "any_of": {"type": "array", "items": group},
            "alive": {"type": "boolean"},
            "partial_period": enum(PARTIAL_PERIODS),
            "due_month": {"type": "integer", "minimum": 1, "maximum": 12},
            "once": enum(ONCE),
            "in_kind": {"type": "boolean"},
            "reference": {"type": "string", "maxLength": 200},
            "top_up": {"type": ["number", "string"]},
            "inferred": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        ["basis"],
    )


def check_family_and_ages(c: Any, obj: Any, p: str) -> None:
    """The conditions on who a family is that an eligibility and an entitlement group share:
    family types from the vocabulary, the mother's age, the member's age range."""
    from portal.policy.codes import FAMILY_TYPES
    from portal.policy.problems import codes_list

    for j, f in enumerate(c.list_of(obj, "family_types", p)):
        if not isinstance(f, str) or f not in FAMILY_TYPES:
            c.add(
                f"{p}.family_types[{j}]",
                f"不是已知的家庭类型（{f!r}）；允许：{codes_list(FAMILY_TYPES)}",
                f"is not a known family type ({f!r}); allowed: {codes_list(FAMILY_TYPES)}",
            )
    c.integer(obj, "mother_min_age", p, 0, 120)
    lo = c.integer(obj, "member_min_age", p, 0, 120)
    hi = c.integer(obj, "member_max_age", p, 0, 120)
    if lo is not None and hi is not None and hi < lo:
        c.add(f"{p}.member_max_age", "不能小于 member_min_age", "must not be below member_min_age")
