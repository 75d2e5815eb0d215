"""Complete validation of a district policy file (docs/policy-format.md) before anything is written.

Every problem is collected (validation never stops at the first one) and reported with
its path in the file (`measures[3].benefits[0].values[0].amount`), a message in Chinese
and in English, and — when the data came from YAML text — the line it is on.

The allowed codes are THE list in `portal.policy.codes` (docs/policy-format.md documents
the same values and `tests/policy/test_docs.py` keeps the two in step); `Problem` and the
`Checker` that collects them are in `portal.policy.problems`, the YAML reading with line
numbers in `portal.policy.policy_text`, the JSON Schema in `portal.policy.json_schema`.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from portal.policy.care_format import check_care
from portal.policy.codes import (
    BENEFIT_KEYS,
    CADENCES,
    CATEGORIES,
    CLAUSES,
    DEPARTMENT_KEYS,
    DEPARTMENT_KIND_LABELS,
    ELIGIBILITY_KEYS,
    FAMILY_TYPES,  # noqa: F401 - read as schema.FAMILY_TYPES elsewhere
    FESTIVALS,
    FORMAT_VERSION,
    FREQUENCIES,
    KEY_RE,
    LEVELS,
    LOCAL_KIND_KEYS,
    MAX_AMOUNT,
    MAX_HOURS,
    MAX_QUANTITY_UNITS,
    MEASURE_KEYS,
    MEETING_KEYS,
    POLICY_KEYS,
    RESIDENCES,
    SLUG_RE,
    SPLIT_APPLIES_TO,
    SPLIT_KEYS,
    STATUSES,
    TENANT_KEYS,
    TOP_KEYS,
    UNITS,
    VALUE_KEYS,
)
from portal.policy.entitlement import benefit_names, check_entitlement, check_family_and_ages
from portal.policy.problems import (
    Checker,
    Problem,
    codes_list,
    join_path,
    suggest,
    to_date,
)


def validate_policy(data: Any, lines: dict[str, int] | None = None) -> list[Problem]:
    """Every problem in a policy file's data (an empty list means it may be loaded)."""
    c = Checker(lines, data)
    c.benefit_names = benefit_names(data)
    if not c.mapping(
        data, "", TOP_KEYS, ("format_version", "tenant", "departments", "policy", "measures")
    ):
        return c.problems
    fv = data.get("format_version")
    if fv is not None and (isinstance(fv, bool) or fv != FORMAT_VERSION):
        c.add(
            "format_version",
            f"不支持的格式版本（{fv!r}）；应为 {FORMAT_VERSION}",
            f"unsupported format version ({fv!r}); must be {FORMAT_VERSION}",
        )
    _check_tenant(c, data.get("tenant"))
    kinds = _check_local_kinds(c, data.get("department_kinds"))
    keys = _check_departments(c, data.get("departments"), kinds)
    lead = _check_policy(c, data.get("policy"), keys)
    _check_measures(c, data.get("measures"), keys, lead)
    if data.get("meeting") is not None:
        _check_meeting(c, data["meeting"], keys)
    if data.get("care") is not None:
        check_care(c, data["care"])
    return c.problems


def kind_table(data: Any) -> dict[str, tuple[str, str]]:
    """The canonical department kinds plus the file's own (`department_kinds`)."""
    table = dict(DEPARTMENT_KIND_LABELS)
    items = data.get("department_kinds") if isinstance(data, dict) else None
    for k in items if isinstance(items, list) else []:
        if (
            isinstance(k, dict)
            and isinstance(k.get("code"), str)
            and isinstance(k.get("name"), str)
        ):
            table.setdefault(k["code"], (k["name"], k.get("name_en") or k["name"]))
    return table


def _check_local_kinds(c: Checker, items: Any) -> dict[str, tuple[str, str]]:
    table = dict(DEPARTMENT_KIND_LABELS)
    for j, k in enumerate(c.list_of({"department_kinds": items}, "department_kinds", "")):
        p = f"department_kinds[{j}]"
        if not c.mapping(k, p, LOCAL_KIND_KEYS, ("code", "name")):
            continue
        code = c.text(k, "code", p, required=True)
        name = c.text(k, "name", p, required=True, max_len=60)
        c.text(k, "name_en", p, max_len=60)
        if code is None:
            continue
        if not KEY_RE.match(code) or len(code) > 40:
            c.add(
                f"{p}.code",
                "类别代码只能由小写字母、数字和 _ 组成，以字母开头，最多 40 个字符",
                "may only hold lower-case letters, digits and _, start with a letter, at most 40 characters",
            )
        elif code in table:
            c.add(
                f"{p}.code",
                f"类别代码 {code!r} 已存在（标准类别或本文件重复）",
                f"kind code {code!r} exists already (a standard kind or listed twice)",
            )
        else:
            table[code] = (name or code, k.get("name_en") or name or code)
    return table


def _check_inferred(c: Checker, obj: dict, path: str, allowed: set[str]) -> None:
    """`inferred: {field: reason}` — a value the document does not state, with the reason."""
    value = obj.get("inferred")
    if value is None:
        return
    p = join_path(path, "inferred")
    if not isinstance(value, dict):
        c.add(p, "必须是映射（字段: 理由）", "must be a mapping (field: reason)")
        return
    for field, reason in value.items():
        fp = f"{p}.{field}"
        if field not in allowed:
            guess = suggest(str(field), allowed)
            hint = f"；是否应为 {guess}？" if guess else ""
            c.add(
                fp,
                f"推定只能用于本节的字段{hint}",
                f"can only mark a field of this section{'; did you mean ' + guess + '?' if guess else ''}",
            )
        elif field not in obj or obj[field] in (None, "", []):
            c.add(fp, "推定的字段没有填写值", "marks a field that has no value")
        if not isinstance(reason, str) or not reason.strip():
            c.add(fp, "必须写明推定理由", "must give the reason for the inference")


def _check_tenant(c: Checker, t: Any) -> None:
    if t is None or not c.mapping(t, "tenant", TENANT_KEYS, ("slug", "name", "level", "province")):
        return
    slug = c.text(t, "slug", "tenant", required=True)
    if slug and not SLUG_RE.match(slug):
        c.add(
            "tenant.slug",
            "标识只能由小写字母、数字和 - 组成，2–40 个字符，且不以 - 开头或结尾",
            "may only hold lower-case letters, digits and -, 2–40 characters, not starting or ending with -",
        )
    c.text(t, "name", "tenant", required=True, max_len=100)
    c.text(t, "name_en", "tenant", max_len=100)
    level = c.text(t, "level", "tenant", required=True)
    if level and level not in LEVELS:
        c.add(
            "tenant.level",
            f"级别必须是 {'、'.join(LEVELS)} 之一",
            f"must be one of {', '.join(LEVELS)}",
        )
    c.text(t, "province", "tenant", required=True, max_len=40)


def _check_departments(c: Checker, items: Any, kinds: dict[str, tuple[str, str]]) -> dict[str, str]:
    """The department keys with their names (for "did you mean" on references)."""
    keys: dict[str, str] = {}
    if items is None:
        return keys
    if not isinstance(items, list):
        c.add("departments", "必须是列表", "must be a list")
        return keys
    if not items:
        c.add("departments", "至少需要一个部门", "must list at least one department")
    names: set[str] = set()
    for i, d in enumerate(items):
        p = f"departments[{i}]"
        if not c.mapping(d, p, DEPARTMENT_KEYS, ("key", "kind", "name")):
            continue
        key = c.text(d, "key", p, required=True)
        name = c.text(d, "name", p, required=True, max_len=120)
        if key is not None:
            if not KEY_RE.match(key):
                c.add(
                    f"{p}.key",
                    "引用名只能由小写字母、数字和 _ 组成，以字母开头，最多 60 个字符",
                    "may only hold lower-case letters, digits and _, start with a letter, at most 60 characters",
                )
            elif key in keys:
                c.add(f"{p}.key", f"引用名 {key!r} 重复", f"duplicate department key {key!r}")
            keys[key] = name or key
        c.code(d, "kind", p, kinds, ("部门类别", "department kind"))
        if name:
            if name in names:
                c.add(f"{p}.name", f"部门名称 {name!r} 重复", f"duplicate department name {name!r}")
            names.add(name)
    return keys


def _check_policy(c: Checker, p_: Any, keys: dict[str, str]) -> str | None:
    """Checks the document's metadata; returns the document-wide lead's key, if any."""
    if p_ is None or not c.mapping(p_, "policy", POLICY_KEYS, ("title", "effective_from")):
        return None
    c.text(p_, "title", "policy", required=True, max_len=200)
    c.text(p_, "doc_number", "policy", max_len=80)
    c.text_list(p_, "issuers", "policy", max_len=200)
    c.text_list(p_, "supersedes", "policy", max_len=80)
    c.date(p_, "issued_on", "policy")
    start = c.date(p_, "effective_from", "policy")
    until = c.date(p_, "effective_until", "policy")
    if start and until and until < start:
        c.add(
            "policy.effective_until",
            "有效期至不能早于施行日期",
            "must not be before effective_from",
        )
    c.code(p_, "status", "policy", STATUSES, ("状态", "status"))
    c.text(p_, "source", "policy", max_len=300)
    lead = p_.get("lead_department")
    ok_lead = lead is not None and c.department(lead, "policy.lead_department", keys)
    for j, key in enumerate(c.list_of(p_, "member_departments", "policy")):
        c.department(key, f"policy.member_departments[{j}]", keys)
    _check_inferred(c, p_, "policy", POLICY_KEYS - {"inferred"})
    return lead if ok_lead else None


def _check_measures(c: Checker, items: Any, keys: dict[str, str], doc_lead: str | None) -> None:
    if items is None:
        return
    if not isinstance(items, list):
        c.add("measures", "必须是列表", "must be a list")
        return
    if not items:
        c.add("measures", "至少需要一条措施", "must list at least one measure")
    numbers: dict[str, int] = {}
    for i, m in enumerate(items):
        p = f"measures[{i}]"
        if not c.mapping(m, p, MEASURE_KEYS, ("number", "category", "title")):
            continue
        number = m.get("number")
        if isinstance(number, int) and not isinstance(number, bool):
            number = str(number)
        if number is not None:
            if not isinstance(number, str) or not number.strip():
                c.add(f"{p}.number", "必须是非空文本", "must be non-empty text")
            elif len(number) > 30:
                c.add(f"{p}.number", "不能超过 30 个字符", "must be at most 30 characters")
            elif number in numbers:
                c.add(
                    f"{p}.number",
                    f"编号 {number!r} 与 measures[{numbers[number]}] 重复",
                    f"duplicate number {number!r} (also measures[{numbers[number]}])",
                )
            else:
                numbers[number] = i
        clause = c.code(m, "clause", p, CLAUSES, ("条款类型", "clause")) or "measure"
        c.code(m, "category", p, CATEGORIES, ("措施类别", "category"))
        c.text(m, "title", p, required=True, max_len=200)
        c.text(m, "text", p)
        c.boolean(m, "duty", p)
        seen: set[str] = set()
        for role in ("lead", "cooperating"):
            for j, key in enumerate(c.list_of(m, role, p)):
                rp = f"{p}.{role}[{j}]"
                if not c.department(key, rp, keys):
                    continue
                if key in seen:
                    c.add(
                        rp,
                        f"部门 {key!r} 在本措施中重复出现",
                        f"department {key!r} is listed twice for this measure",
                    )
                seen.add(key)
        if clause != "measure":
            if m.get("duty") is True or seen:
                c.add(
                    f"{p}.clause",
                    f"{CLAUSES[clause][0]}不是措施，不能有责任单位或产生职责（删去 lead/cooperating/duty）",
                    f"a {CLAUSES[clause][1]} is not a measure: it takes no departments and creates no duties",
                )
        elif (
            m.get("duty", True) is True
            and not seen
            and doc_lead is None
            and not _has_problem_under(c, p)
        ):
            c.add(
                f"{p}.lead",
                "产生职责的措施必须至少有一个责任单位（或在 policy.lead_department 写明文件牵头单位，或设置 duty: false）",
                "a measure that creates duties needs at least one department "
                "(or a document-wide policy.lead_department, or duty: false)",
            )
        _check_inferred(c, m, p, MEASURE_KEYS - {"inferred", "number", "text"})
        for j, b in enumerate(c.list_of(m, "benefits", p)):
            _check_benefit(c, b, f"{p}.benefits[{j}]")


def measures_taking_document_lead(data: dict) -> list[tuple[int, dict]]:
    """Measures that name no department and so take the document-wide lead.

    `portal policy check` lists each one; the operator confirms it (writes the lead
    with `inferred.lead` giving the reason) or sets `duty: false`.
    """
    policy = data.get("policy") or {}
    if not policy.get("lead_department"):
        return []
    return [
        (i, m)
        for i, m in enumerate(data.get("measures") or [])
        if (m.get("clause") or "measure") == "measure"
        and m.get("duty", True) is True
        and not (m.get("lead") or m.get("cooperating"))
    ]


def _has_problem_under(c: Checker, path: str) -> bool:
    return any(
        pr.path.startswith(path + ".lead") or pr.path.startswith(path + ".cooperating")
        for pr in c.problems
    )


def _check_benefit(c: Checker, b: Any, p: str) -> None:
    if not c.mapping(b, p, BENEFIT_KEYS, ("name", "unit", "frequency", "values")):
        return
    c.text(b, "name", p, required=True, max_len=200)
    unit = c.code(b, "unit", p, UNITS, ("单位", "unit"))
    frequency = c.code(b, "frequency", p, FREQUENCIES, ("频次", "frequency"))
    festivals = c.list_of(b, "festivals", p)
    for j, f in enumerate(festivals):
        if not isinstance(f, str) or f not in FESTIVALS:
            c.add(
                f"{p}.festivals[{j}]",
                f"不是已知的节日代码（{f!r}）；允许：{codes_list(FESTIVALS)}",
                f"is not a known festival code ({f!r}); allowed: {codes_list(FESTIVALS)}",
            )
    if frequency == "festival" and not festivals:
        c.add(
            f"{p}.festivals",
            "频次为 festival 时必须列出节日",
            "must list the festivals when frequency is festival",
        )
    if festivals and frequency and frequency != "festival":
        c.add(
            f"{p}.festivals",
            "只有频次为 festival 时才能列出节日",
            "only allowed when frequency is festival",
        )
    c.boolean(b, "amount_is_floor", p)
    c.text(b, "amount_note", p)
    qty = c.integer(b, "max_quantity", p, 1, 100000)
    qty_unit = c.code(b, "max_quantity_unit", p, MAX_QUANTITY_UNITS, ("上限单位", "limit unit"))
    if qty is not None and b.get("max_quantity_unit") is None:
        c.add(f"{p}.max_quantity_unit", "设置 max_quantity 时必填", "is required with max_quantity")
    if qty_unit is not None and b.get("max_quantity") is None:
        c.add(
            f"{p}.max_quantity",
            "设置 max_quantity_unit 时必填",
            "is required with max_quantity_unit",
        )
    hours = c.positive(b, "hours_per_month", p, MAX_HOURS)
    if hours is not None and unit and unit != "yuan_per_hour":
        c.add(
            f"{p}.unit",
            "设置 hours_per_month 时单位必须为 yuan_per_hour（元/小时）",
            "must be yuan_per_hour when hours_per_month is set",
        )
    if b.get("eligibility") is not None:
        _check_eligibility(c, b["eligibility"], f"{p}.eligibility")
    if b.get("entitlement") is not None:
        check_entitlement(c, b["entitlement"], f"{p}.entitlement", b, c.benefit_names)
    splits = c.list_of(b, "funding_split", p)
    for j, s in enumerate(splits):
        sp = f"{p}.funding_split[{j}]"
        if c.mapping(s, sp, SPLIT_KEYS, ("level", "share")):
            c.text(s, "level", sp, required=True, max_len=40)
            c.positive(s, "share", sp, decimal.Decimal(1000))
    applies = c.code(
        b, "funding_split_applies_to", p, SPLIT_APPLIES_TO, ("分担范围", "split scope")
    )
    if applies and not splits:
        c.add(
            f"{p}.funding_split_applies_to",
            "没有 funding_split 时不能设置",
            "only allowed with funding_split",
        )
    c.text(b, "funding_note", p)
    c.text(b, "note", p)
    values = c.list_of(b, "values", p, required=True)
    previous: dt.date | None = None
    for j, v in enumerate(values):
        vp = f"{p}.values[{j}]"
        # An amount in force before a date, its start unknown: `in_force_before` instead
        # of `effective_from` (the first value only; the next one starts on that date).
        before = isinstance(v, dict) and v.get("in_force_before") is not None
        required = ("amount",) if before else ("amount", "effective_from")
        if not c.mapping(v, vp, VALUE_KEYS, required):
            continue
        c.positive(v, "amount", vp, MAX_AMOUNT)
        c.text(v, "source", vp, max_len=200)
        if before:
            end = c.date(v, "in_force_before", vp)
            if v.get("effective_from") is not None:
                c.add(
                    f"{vp}.in_force_before",
                    "effective_from 与 in_force_before 只能写一个",
                    "give either effective_from or in_force_before, not both",
                )
            elif j != 0:
                c.add(
                    f"{vp}.in_force_before",
                    "只有第一条金额可以起始日期未知",
                    "only the first value may have an unknown start",
                )
            else:
                nxt = values[1] if len(values) > 1 and isinstance(values[1], dict) else None
                if (
                    nxt is not None
                    and end is not None
                    and to_date(nxt.get("effective_from")) != end
                ):
                    c.add(
                        f"{vp}.in_force_before",
                        "应与下一条金额的 effective_from 相同",
                        "must equal the next value's effective_from",
                    )
            continue
        day = c.date(v, "effective_from", vp)
        if day is not None and previous is not None:
            if day == previous:
                c.add(
                    f"{vp}.effective_from",
                    "同一日期已有金额；每个日期只能有一个金额",
                    "another value has the same date; one amount per date",
                )
            elif day < previous:
                c.add(
                    f"{vp}.effective_from",
                    "金额须按生效日期从早到晚排列",
                    "values must be in order of effective_from, earliest first",
                )
        if day is not None:
            previous = day


def _check_eligibility(c: Checker, e: Any, p: str) -> None:
    if not c.mapping(e, p, ELIGIBILITY_KEYS, ()):
        return
    check_family_and_ages(c, e, p)
    c.code(e, "residence", p, RESIDENCES, ("户籍", "residence"))
    c.integer(e, "disability_grade_max", p, 1, 4)
    c.text_list(e, "conditions", p)


def _check_meeting(c: Checker, mt: Any, keys: dict[str, str]) -> None:
    if not c.mapping(mt, "meeting", MEETING_KEYS, ("name",)):
        return
    c.text(mt, "name", "meeting", required=True, max_len=200)
    c.code(mt, "cadence", "meeting", CADENCES, ("会议周期", "cadence"))
    c.text(mt, "chief_convener", "meeting", max_len=100)
    c.text_list(mt, "conveners", "meeting", max_len=100)
    office = mt.get("office_department")
    if office is not None:
        c.department(office, "meeting.office_department", keys)
    for j, key in enumerate(c.list_of(mt, "member_departments", "meeting")):
        c.department(key, f"meeting.member_departments[{j}]", keys)
    c.text(mt, "note", "meeting")
    _check_inferred(c, mt, "meeting", MEETING_KEYS - {"inferred", "note"})
