"""Complete validation of a district policy file (docs/policy-format.md) before anything is written.

Every problem is collected (validation never stops at the first one) and reported with
its path in the file (`measures[3].benefits[0].values[0].amount`), a message in Chinese
and in English, and — when the data came from YAML text — the line it is on.

The allowed codes below are THE list: docs/policy-format.md documents the same values
and `tests/policy/test_docs.py` keeps the two in step.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import yaml

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

CADENCES: dict[str, tuple[str, str]] = {
    "semiannual": ("每半年", "every half-year"),
    "quarterly": ("每季度", "every quarter"),
    "yearly": ("每年", "every year"),
    "ad_hoc": ("不定期", "as needed"),
}

STATUSES: dict[str, tuple[str, str]] = {
    "in_force": ("施行", "in force"),
    "draft": ("征求意见稿", "draft for comment"),
}

LEVELS = ("区", "县", "市")
DEPARTMENT_KIND_CODES = {code for code, _zh, _en in DEPARTMENT_KINDS}

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
MAX_AMOUNT = decimal.Decimal("9999999999.99")  # Numeric(12, 2)
MAX_HOURS = decimal.Decimal("999999.99")  # Numeric(8, 2)

TOP_KEYS = {"format_version", "tenant", "departments", "policy", "measures", "meeting"}
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
}
MEASURE_KEYS = {"number", "category", "title", "text", "lead", "cooperating", "duty", "benefits"}
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
    "funding_note",
    "values",
    "note",
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
VALUE_KEYS = {"amount", "effective_from", "source"}
SPLIT_KEYS = {"level", "share"}
MEETING_KEYS = {
    "name",
    "cadence",
    "chief_convener",
    "conveners",
    "office_department",
    "member_departments",
    "note",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a policy file, where it is, in both languages."""

    path: str
    message_zh: str
    message_en: str
    line: int | None = None

    def message(self, locale: str | None = None) -> str:
        return self.message_en if (locale or "zh").startswith("en") else self.message_zh

    def text(self, locale: str | None = None) -> str:
        """`path: message (line n)` in one language, as the CLI and UI show it."""
        where = self.path or "/"
        if (locale or "zh").startswith("en"):
            suffix = f" (line {self.line})" if self.line else ""
        else:
            suffix = f"（第 {self.line} 行）" if self.line else ""
        return f"{where}: {self.message(locale)}{suffix}"

    def __str__(self) -> str:
        return self.text("en")


class PolicyInvalid(Exception):
    """The policy data has problems; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems[:5]))


def _codes(table: dict[str, tuple[str, str]] | Iterable[str]) -> str:
    return ", ".join(sorted(table))


class _Checker:
    """Walks the data once, collecting problems; `lines` maps paths to YAML lines."""

    def __init__(self, lines: dict[str, int] | None) -> None:
        self.problems: list[Problem] = []
        self.lines = lines or {}

    # -- reporting ---------------------------------------------------------------
    def add(self, path: str, zh: str, en: str) -> None:
        probe = path
        line = self.lines.get(probe)
        while line is None and probe and self.lines:
            shorter = _PARENT.sub("", probe)
            if shorter == probe:
                break
            probe = shorter
            line = self.lines.get(probe)
        self.problems.append(Problem(path, zh, en, line))

    # -- primitive checks ----------------------------------------------------------
    def mapping(self, value: Any, path: str, allowed: set[str], required: Iterable[str]) -> bool:
        if not isinstance(value, dict):
            self.add(path, "必须是映射（键: 值）", "must be a mapping (key: value)")
            return False
        for key in value:
            if key not in allowed:
                self.add(
                    _join(path, str(key)),
                    f"未知字段；允许的字段：{_codes(allowed)}",
                    f"unknown field; allowed fields: {_codes(allowed)}",
                )
        for key in required:
            if key not in value or value[key] is None:
                self.add(_join(path, key), "必填", "is required")
        return True

    def text(
        self, obj: dict, key: str, path: str, *, required: bool = False, max_len: int = 0
    ) -> str | None:
        p = _join(path, key)
        if key not in obj or obj[key] is None:
            return None  # required-ness reported by mapping()
        value = obj[key]
        if not isinstance(value, str):
            self.add(p, "必须是文本", "must be text")
            return None
        if required and not value.strip():
            self.add(p, "不能为空", "must not be empty")
        if max_len and len(value) > max_len:
            self.add(p, f"不能超过 {max_len} 个字符", f"must be at most {max_len} characters")
        return value

    def text_list(self, obj: dict, key: str, path: str, *, max_len: int = 0) -> list[str]:
        p = _join(path, key)
        value = obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(p, "必须是列表", "must be a list")
            return []
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.add(f"{p}[{i}]", "必须是非空文本", "must be non-empty text")
                continue
            if max_len and len(item) > max_len:
                self.add(
                    f"{p}[{i}]",
                    f"不能超过 {max_len} 个字符",
                    f"must be at most {max_len} characters",
                )
            out.append(item)
        return out

    def code(
        self,
        obj: dict,
        key: str,
        path: str,
        table: dict[str, Any] | set[str],
        what: tuple[str, str],
    ) -> str | None:
        p = _join(path, key)
        if key not in obj or obj[key] is None:
            return None
        value = obj[key]
        if not isinstance(value, str) or value not in table:
            self.add(
                p,
                f"不是已知的{what[0]}代码（{value!r}）；允许：{_codes(table)}",
                f"is not a known {what[1]} code ({value!r}); allowed: {_codes(table)}",
            )
            return None
        return value

    def date(self, obj: dict, key: str, path: str) -> dt.date | None:
        p = _join(path, key)
        if key not in obj or obj[key] is None:
            return None
        value = to_date(obj[key])
        if value is None:
            self.add(
                p,
                f"不是有效日期（{obj[key]!r}）；格式为 YYYY-MM-DD",
                f"is not a valid date ({obj[key]!r}); use YYYY-MM-DD",
            )
        return value

    def integer(self, obj: dict, key: str, path: str, lo: int, hi: int) -> int | None:
        p = _join(path, key)
        if key not in obj or obj[key] is None:
            return None
        value = obj[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(p, "必须是整数", "must be a whole number")
            return None
        if not lo <= value <= hi:
            self.add(p, f"必须在 {lo} 到 {hi} 之间", f"must be between {lo} and {hi}")
            return None
        return value

    def positive(
        self, obj: dict, key: str, path: str, limit: decimal.Decimal
    ) -> decimal.Decimal | None:
        p = _join(path, key)
        if key not in obj or obj[key] is None:
            return None
        value = to_decimal(obj[key])
        if value is None:
            self.add(p, f"必须是数字（{obj[key]!r}）", f"must be a number ({obj[key]!r})")
            return None
        if value <= 0:
            self.add(p, "必须为正数", "must be a positive number")
            return None
        if value > limit:
            self.add(p, f"不能大于 {limit}", f"must not exceed {limit}")
            return None
        if value != value.quantize(decimal.Decimal("0.01")):
            self.add(p, "最多两位小数", "may have at most two decimal places")
            return None
        return value

    def boolean(self, obj: dict, key: str, path: str) -> None:
        if key in obj and obj[key] is not None and not isinstance(obj[key], bool):
            self.add(_join(path, key), "必须是 true 或 false", "must be true or false")

    def list_of(self, obj: dict, key: str, path: str, *, required: bool = False) -> list:
        p = _join(path, key)
        value = obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(p, "必须是列表", "must be a list")
            return []
        if required and not value:
            self.add(p, "不能为空列表", "must not be an empty list")
        return value


_PARENT = re.compile(r"(^|\.)[^.\[\]]+$|\[\d+\]$")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def to_date(value: Any) -> dt.date | None:
    """A date from a YAML date or a `YYYY-MM-DD` string; None when it is not one."""
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def to_decimal(value: Any) -> decimal.Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | decimal.Decimal):
        return decimal.Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return decimal.Decimal(str(value))
    if isinstance(value, str):
        try:
            d = decimal.Decimal(value.strip())
        except decimal.InvalidOperation:
            return None
        return d if d.is_finite() else None
    return None


def validate_policy(data: Any, lines: dict[str, int] | None = None) -> list[Problem]:
    """Every problem in a policy file's data (an empty list means it may be loaded)."""
    c = _Checker(lines)
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
    keys = _check_departments(c, data.get("departments"))
    _check_policy(c, data.get("policy"))
    _check_measures(c, data.get("measures"), keys)
    if data.get("meeting") is not None:
        _check_meeting(c, data["meeting"], keys)
    return c.problems


def _check_tenant(c: _Checker, t: Any) -> None:
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


def _check_departments(c: _Checker, items: Any) -> set[str]:
    keys: set[str] = set()
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
        if key is not None:
            if not KEY_RE.match(key):
                c.add(
                    f"{p}.key",
                    "引用名只能由小写字母、数字和 _ 组成，以字母开头，最多 60 个字符",
                    "may only hold lower-case letters, digits and _, start with a letter, at most 60 characters",
                )
            elif key in keys:
                c.add(f"{p}.key", f"引用名 {key!r} 重复", f"duplicate department key {key!r}")
            keys.add(key)
        c.code(d, "kind", p, DEPARTMENT_KIND_CODES, ("部门类别", "department kind"))
        name = c.text(d, "name", p, required=True, max_len=120)
        if name:
            if name in names:
                c.add(f"{p}.name", f"部门名称 {name!r} 重复", f"duplicate department name {name!r}")
            names.add(name)
    return keys


def _check_policy(c: _Checker, p_: Any) -> None:
    if p_ is None or not c.mapping(p_, "policy", POLICY_KEYS, ("title", "effective_from")):
        return
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


def _check_measures(c: _Checker, items: Any, keys: set[str]) -> None:
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
        c.code(m, "category", p, CATEGORIES, ("措施类别", "category"))
        c.text(m, "title", p, required=True, max_len=200)
        c.text(m, "text", p)
        c.boolean(m, "duty", p)
        seen: set[str] = set()
        for role in ("lead", "cooperating"):
            for j, key in enumerate(c.list_of(m, role, p)):
                rp = f"{p}.{role}[{j}]"
                if not isinstance(key, str):
                    c.add(rp, "必须是部门引用名", "must be a department key")
                elif key not in keys:
                    c.add(
                        rp,
                        f"部门 {key!r} 不在 departments 名单中",
                        f"department {key!r} is not in the departments list",
                    )
                elif key in seen:
                    c.add(
                        rp,
                        f"部门 {key!r} 在本措施中重复出现",
                        f"department {key!r} is listed twice for this measure",
                    )
                else:
                    seen.add(key)
        if m.get("duty", True) is True and not seen and not _has_problem_under(c, p):
            c.add(
                f"{p}.lead",
                "产生职责的措施必须至少有一个责任单位（或设置 duty: false）",
                "a measure that creates duties needs at least one department (or set duty: false)",
            )
        for j, b in enumerate(c.list_of(m, "benefits", p)):
            _check_benefit(c, b, f"{p}.benefits[{j}]")


def _has_problem_under(c: _Checker, path: str) -> bool:
    return any(
        pr.path.startswith(path + ".lead") or pr.path.startswith(path + ".cooperating")
        for pr in c.problems
    )


def _check_benefit(c: _Checker, b: Any, p: str) -> None:
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
                f"不是已知的节日代码（{f!r}）；允许：{_codes(FESTIVALS)}",
                f"is not a known festival code ({f!r}); allowed: {_codes(FESTIVALS)}",
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
    for j, s in enumerate(c.list_of(b, "funding_split", p)):
        sp = f"{p}.funding_split[{j}]"
        if c.mapping(s, sp, SPLIT_KEYS, ("level", "share")):
            c.text(s, "level", sp, required=True, max_len=40)
            c.positive(s, "share", sp, decimal.Decimal(1000))
    c.text(b, "funding_note", p)
    c.text(b, "note", p)
    values = c.list_of(b, "values", p, required=True)
    previous: dt.date | None = None
    for j, v in enumerate(values):
        vp = f"{p}.values[{j}]"
        if not c.mapping(v, vp, VALUE_KEYS, ("amount", "effective_from")):
            continue
        c.positive(v, "amount", vp, MAX_AMOUNT)
        day = c.date(v, "effective_from", vp)
        c.text(v, "source", vp, max_len=200)
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


def _check_eligibility(c: _Checker, e: Any, p: str) -> None:
    if not c.mapping(e, p, ELIGIBILITY_KEYS, ()):
        return
    for j, f in enumerate(c.list_of(e, "family_types", p)):
        if not isinstance(f, str) or f not in FAMILY_TYPES:
            c.add(
                f"{p}.family_types[{j}]",
                f"不是已知的家庭类型（{f!r}）；允许：{_codes(FAMILY_TYPES)}",
                f"is not a known family type ({f!r}); allowed: {_codes(FAMILY_TYPES)}",
            )
    c.integer(e, "mother_min_age", p, 0, 120)
    lo = c.integer(e, "member_min_age", p, 0, 120)
    hi = c.integer(e, "member_max_age", p, 0, 120)
    if lo is not None and hi is not None and hi < lo:
        c.add(f"{p}.member_max_age", "不能小于 member_min_age", "must not be below member_min_age")
    c.code(e, "residence", p, RESIDENCES, ("户籍", "residence"))
    c.integer(e, "disability_grade_max", p, 1, 4)
    c.text_list(e, "conditions", p)


def _check_meeting(c: _Checker, mt: Any, keys: set[str]) -> None:
    if not c.mapping(mt, "meeting", MEETING_KEYS, ("name",)):
        return
    c.text(mt, "name", "meeting", required=True, max_len=200)
    c.code(mt, "cadence", "meeting", CADENCES, ("会议周期", "cadence"))
    c.text(mt, "chief_convener", "meeting", max_len=100)
    c.text_list(mt, "conveners", "meeting", max_len=100)
    office = mt.get("office_department")
    if office is not None and (not isinstance(office, str) or office not in keys):
        c.add(
            "meeting.office_department",
            f"部门 {office!r} 不在 departments 名单中",
            f"department {office!r} is not in the departments list",
        )
    for j, key in enumerate(c.list_of(mt, "member_departments", "meeting")):
        if not isinstance(key, str) or key not in keys:
            c.add(
                f"meeting.member_departments[{j}]",
                f"部门 {key!r} 不在 departments 名单中",
                f"department {key!r} is not in the departments list",
            )
    c.text(mt, "note", "meeting")


# -- YAML text with line numbers --------------------------------------------------------


_SafeBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when available


class _Loader(_SafeBase):  # type: ignore[misc, valid-type]
    """Safe loading that keeps dates as text, so an impossible date is a Problem, not a crash."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _line_map(node: yaml.Node, path: str, out: dict[str, int], problems: list[Problem]) -> None:
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            sub = _join(path, key)
            if key in seen:
                problems.append(
                    Problem(
                        sub, "字段重复出现", "the field appears twice", key_node.start_mark.line + 1
                    )
                )
            seen.add(key)
            out[sub] = key_node.start_mark.line + 1
            _line_map(value_node, sub, out, problems)
            out[sub] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, f"{path}[{i}]", out, problems)


def _normalise_dates(obj: Any, path: str, date_paths: Callable[[str], bool]) -> Any:
    """Dates stay strings while loading; turn the valid ones into `date` for the loader."""
    if isinstance(obj, dict):
        return {k: _normalise_dates(v, _join(path, str(k)), date_paths) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_normalise_dates(v, f"{path}[{i}]", date_paths) for i, v in enumerate(obj)]
    if isinstance(obj, str) and date_paths(path):
        day = to_date(obj)
        return day if day is not None else obj
    return obj


_DATE_PATH = re.compile(
    r"(^policy\.(issued_on|effective_from|effective_until)$|\.values\[\d+\]\.effective_from$)"
)


def parse_policy_text(text: str) -> tuple[dict | None, list[Problem]]:
    """Parse YAML text and validate it; problems carry line numbers.

    Returns (data, problems); data is None only when the text is not usable YAML.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        raw = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        detail = str(getattr(e, "problem", "") or e)
        return None, [Problem("", f"不是有效的 YAML：{detail}", f"not valid YAML: {detail}", line)]
    finally:
        loader.dispose()
    if node is None or not isinstance(raw, dict):
        return None, [
            Problem(
                "",
                "文件顶层必须是映射（format_version、tenant …）",
                "the top level must be a mapping (format_version, tenant, …)",
                1,
            )
        ]
    lines: dict[str, int] = {}
    dup: list[Problem] = []
    _line_map(node, "", lines, dup)
    data = _normalise_dates(raw, "", lambda p: bool(_DATE_PATH.search(p)))
    return data, dup + validate_policy(data, lines)


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
            "funding_note": text,
            "values": {
                "type": "array",
                "minItems": 1,
                "items": obj(
                    {
                        "amount": positive,
                        "effective_from": date,
                        "source": {**text, "maxLength": 200},
                    },
                    ["amount", "effective_from"],
                ),
            },
            "note": text,
        },
        ["name", "unit", "frequency", "values"],
    )
    measure = obj(
        {
            "number": {"type": ["string", "integer"], "minLength": 1, "maxLength": 30},
            "category": enum(CATEGORIES),
            "title": {**text, "minLength": 1, "maxLength": 200},
            "text": text,
            "lead": {"type": "array", "items": key},
            "cooperating": {"type": "array", "items": key},
            "duty": {"type": "boolean"},
            "benefits": {"type": "array", "items": benefit},
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
                "departments": {
                    "type": "array",
                    "minItems": 1,
                    "items": obj(
                        {
                            "key": key,
                            "kind": enum(DEPARTMENT_KIND_CODES),
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
                    },
                    ["name"],
                ),
            },
            ["format_version", "tenant", "departments", "policy", "measures"],
        ),
    }
