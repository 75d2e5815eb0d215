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
import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from portal.kernel.rules import RuleError
from portal.policy.care_format import care_json_schema, check_care
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

LEVELS = ("区", "县", "市")
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


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a policy file, where it is, in both languages.

    `path` is the machine path (`measures[3].lead[0]`); `item` is the same place as the
    document numbers it (`措施 三.(一).2`), so an operator finds it in the text.
    """

    path: str
    message_zh: str
    message_en: str
    line: int | None = None
    item: str = ""

    def message(self, locale: str | None = None) -> str:
        return self.message_en if (locale or "zh").startswith("en") else self.message_zh

    def item_label(self, locale: str | None = None) -> str:
        """`措施 三.(一).2` / `measure 三.(一).2` (or the department's name)."""
        if not self.item:
            return ""
        kind, _sep, ref = self.item.partition(":")
        en = (locale or "zh").startswith("en")
        if kind == "m":
            return f"measure {ref}" if en else f"措施 {ref}"
        return f"department {ref}" if en else f"单位 {ref}"

    def where(self, locale: str | None = None) -> str:
        path = self.path or "/"
        if not self.item:
            return path
        en = (locale or "zh").startswith("en")
        item = self.item_label(locale)
        return f"{path} ({item})" if en else f"{path}（{item}）"

    def text(self, locale: str | None = None) -> str:
        """`path (item): message (line n)` in one language, as the CLI and UI show it."""
        if (locale or "zh").startswith("en"):
            suffix = f" (line {self.line})" if self.line else ""
            return f"{self.where(locale)}: {self.message(locale)}{suffix}"
        suffix = f"（第 {self.line} 行）" if self.line else ""
        return f"{self.where(locale)}: {self.message(locale)}{suffix}"

    def __str__(self) -> str:
        return self.text("en")


class PolicyInvalid(RuleError):
    """The policy data has problems; nothing was written."""

    status = 422

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems[:5]))


def _codes(table: dict[str, tuple[str, str]] | Iterable[str]) -> str:
    return ", ".join(sorted(table))


def _labelled(table: dict[str, tuple[str, str]], lang: str) -> str:
    """`finance（财政）、health（卫健）…` — the codes with their Chinese (or English) names."""
    if lang == "zh":
        return "、".join(f"{code}（{zh}）" for code, (zh, _en) in table.items())
    return ", ".join(f"{code} ({en})" for code, (_zh, en) in table.items())


def suggest(value: Any, table: dict[str, tuple[str, str]] | Iterable[str]) -> str | None:
    """The closest known code for a misspelt one ("did you mean"); labels match too (财政 → finance)."""
    if not isinstance(value, str) or not value:
        return None
    codes = list(table)
    hit = difflib.get_close_matches(value, codes, n=1, cutoff=0.6)
    if hit:
        return hit[0]
    if isinstance(table, dict):
        by_label = {}
        for code, labels in table.items():
            for lab in labels if isinstance(labels, tuple) else (labels,):
                by_label[str(lab)] = code
        hit = difflib.get_close_matches(value, list(by_label), n=1, cutoff=0.5)
        if hit:
            return by_label[hit[0]]
        for lab, code in by_label.items():
            if lab and (lab in value or value in lab):
                return code
    return None


def _zh_label(table: Any, code: str) -> str:
    if isinstance(table, dict):
        v = table.get(code)
        if isinstance(v, tuple):
            return f"{code}（{v[0]}）"
        if isinstance(v, str):
            return f"{code}（{v}）"
    return code


def _en_label(table: Any, code: str) -> str:
    if isinstance(table, dict):
        v = table.get(code)
        if isinstance(v, tuple):
            return f"{code} ({v[1]})"
    return code


_MEASURE_PATH = re.compile(r"^measures\[(\d+)\]")
_DEPARTMENT_PATH = re.compile(r"^departments\[(\d+)\]")


class _Checker:
    """Walks the data once, collecting problems; `lines` maps paths to YAML lines."""

    def __init__(self, lines: dict[str, int] | None, data: Any = None) -> None:
        self.problems: list[Problem] = []
        self.lines = lines or {}
        self.data = data if isinstance(data, dict) else {}

    # -- reporting ---------------------------------------------------------------
    def item(self, path: str) -> str:
        """The document's own number for the measure (or the department's key) at `path`."""
        m = _MEASURE_PATH.match(path)
        if m:
            items = self.data.get("measures")
            i = int(m.group(1))
            if isinstance(items, list) and i < len(items) and isinstance(items[i], dict):
                number = items[i].get("number")
                if isinstance(number, str | int) and not isinstance(number, bool):
                    return f"m:{number}"
            return ""
        m = _DEPARTMENT_PATH.match(path)
        if m:
            items = self.data.get("departments")
            i = int(m.group(1))
            if isinstance(items, list) and i < len(items) and isinstance(items[i], dict):
                name = items[i].get("name") or items[i].get("key")
                if isinstance(name, str):
                    return f"d:{name}"
        return ""

    def add(self, path: str, zh: str, en: str) -> None:
        probe = path
        line = self.lines.get(probe)
        while line is None and probe and self.lines:
            shorter = _PARENT.sub("", probe)
            if shorter == probe:
                break
            probe = shorter
            line = self.lines.get(probe)
        self.problems.append(Problem(path, zh, en, line, self.item(path)))

    # -- primitive checks ----------------------------------------------------------
    def mapping(self, value: Any, path: str, allowed: set[str], required: Iterable[str]) -> bool:
        if not isinstance(value, dict):
            self.add(path, "必须是映射（键: 值）", "must be a mapping (key: value)")
            return False
        required = list(required)
        missing = {k for k in required if k not in value or value[k] is None}
        meant: set[str] = set()
        for key in value:
            if key in allowed:
                continue
            guess = suggest(str(key), [k for k in allowed if k not in value] or allowed)
            if guess:
                meant.add(guess)
                self.add(
                    _join(path, str(key)),
                    f"未知字段 {key}；是否应为 {guess}？",
                    f"unknown field {key}; did you mean {guess}?",
                )
            else:
                self.add(
                    _join(path, str(key)),
                    f"未知字段 {key}；允许的字段：{_codes(allowed)}",
                    f"unknown field {key}; allowed fields: {_codes(allowed)}",
                )
        for key in required:
            if key in missing and key not in meant:  # a misspelt key is reported once
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
            self.unknown_code(p, value, table, what)
            return None
        return value

    def unknown_code(self, p: str, value: Any, table: Any, what: tuple[str, str]) -> None:
        guess = suggest(value, table)
        if guess:
            self.add(
                p,
                f"不是已知的{what[0]}代码（{value!r}）；是否应为 {_zh_label(table, guess)}？",
                f"is not a known {what[1]} code ({value!r}); did you mean {_en_label(table, guess)}?",
            )
        elif isinstance(table, dict) and all(isinstance(v, tuple) for v in table.values()):
            self.add(
                p,
                f"不是已知的{what[0]}代码（{value!r}）；可用：{_labelled(table, 'zh')}",
                f"is not a known {what[1]} code ({value!r}); allowed: {_labelled(table, 'en')}",
            )
        else:
            self.add(
                p,
                f"不是已知的{what[0]}代码（{value!r}）；可用：{_codes(table)}",
                f"is not a known {what[1]} code ({value!r}); allowed: {_codes(table)}",
            )

    def department(self, value: Any, p: str, keys: dict[str, str]) -> bool:
        """A reference to a department key; unknown ones get a "did you mean" with the name."""
        if not isinstance(value, str):
            self.add(p, "必须是部门引用名", "must be a department key")
            return False
        if value in keys:
            return True
        guess = suggest(value, {k: (n, n) for k, n in keys.items()})
        if guess:
            self.add(
                p,
                f"部门 {value!r} 不在 departments 名单中；是否应为 {guess}（{keys[guess]}）？",
                f"department {value!r} is not in the departments list; did you mean {guess} ({keys[guess]})?",
            )
        else:
            listed = "、".join(f"{k}（{n}）" for k, n in keys.items())
            self.add(
                p,
                f"部门 {value!r} 不在 departments 名单中；名单：{listed}",
                f"department {value!r} is not in the departments list; listed: {', '.join(keys)}",
            )
        return False

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
    c = _Checker(lines, data)
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


def _check_local_kinds(c: _Checker, items: Any) -> dict[str, tuple[str, str]]:
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


def _check_inferred(c: _Checker, obj: dict, path: str, allowed: set[str]) -> None:
    """`inferred: {field: reason}` — a value the document does not state, with the reason."""
    value = obj.get("inferred")
    if value is None:
        return
    p = _join(path, "inferred")
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


def _check_departments(
    c: _Checker, items: Any, kinds: dict[str, tuple[str, str]]
) -> dict[str, str]:
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


def _check_policy(c: _Checker, p_: Any, keys: dict[str, str]) -> str | None:
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


def _check_measures(c: _Checker, items: Any, keys: dict[str, str], doc_lead: str | None) -> None:
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


def _check_meeting(c: _Checker, mt: Any, keys: dict[str, str]) -> None:
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
    r"(^policy\.(issued_on|effective_from|effective_until)$"
    r"|\.values\[\d+\]\.(effective_from|in_force_before)$)"
)


# PyYAML's messages in Chinese (the operator reads the CLI in Chinese by default).
_YAML_MESSAGES: list[tuple[str, str, str]] = [
    (
        "mapping values are not allowed",
        '此处不能出现“键: 值”：文本中的冒号请放在双引号里（"…: …"）',
        "a 'key: value' is not allowed here: put text containing a colon in double quotes",
    ),
    (
        "could not find expected ':'",
        "缺少冒号：每个字段写成“键: 值”",
        "a ':' is missing: write each field as 'key: value'",
    ),
    (
        "tab character",
        "不能用制表符（Tab）缩进，请用两个空格",
        "tabs cannot indent YAML; use two spaces",
    ),
    (
        "found character '\\t' that cannot start any token",
        "不能用制表符（Tab）缩进，请用两个空格",
        "tabs cannot indent YAML; use two spaces",
    ),
    (
        "found unexpected end of stream",
        "引号没有闭合",
        "a quote is not closed",
    ),
    (
        "found unknown escape character",
        "双引号中的反斜杠转义无效",
        "an invalid backslash escape inside double quotes",
    ),
    (
        "did not find expected key",
        "缩进不一致或缺少字段名",
        "inconsistent indentation or a missing key",
    ),
    (
        "expected <block end>, but found",
        "缩进不一致：同一层的字段应对齐",
        "inconsistent indentation: fields of one level must line up",
    ),
    (
        "did not find expected '-' indicator",
        "列表项缩进不一致：每项以“- ”开头并对齐",
        "list items must line up, each starting with '- '",
    ),
    (
        "found duplicate anchor",
        "锚点重复",
        "a duplicate anchor",
    ),
]


def _yaml_problem(e: yaml.YAMLError) -> tuple[int | None, str, str]:
    """(line, zh, en) for a YAML syntax error; the line is where the fault is."""
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    detail = str(getattr(e, "problem", "") or e).strip()
    for needle, zh, en in _YAML_MESSAGES:
        if needle in detail:
            if needle == "found unexpected end of stream":
                ctx = getattr(e, "context_mark", None)
                line = ctx.line + 1 if ctx is not None else line
            return line, f"YAML 语法错误：{zh}", f"YAML syntax error: {en}"
    return line, f"YAML 语法错误（{detail}）", f"YAML syntax error ({detail})"


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        raw = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return node, raw


def _path_at(text: str, line: int) -> str:
    """The path of the item a line belongs to, from the text above it (best effort)."""
    lines = text.splitlines()
    key = (
        re.match(r"^(\s*(?:-\s+)?[A-Za-z_][\w]*):", lines[line - 1]) if line <= len(lines) else None
    )
    if key:  # keep the key of the broken line, so the path names it
        try:
            probe = key.group(1).replace("\t", "  ") + ":"
            node, _raw = _parse("\n".join([*lines[: line - 1], probe]) + "\n")
        except yaml.YAMLError:
            node = None
        if node is not None:
            out: dict[str, int] = {}
            _line_map(node, "", out, [])
            here = [p for p, ln in out.items() if ln == line]
            if here:
                return max(here, key=len)
    for end in range(min(line - 1, len(lines)), 0, -1):
        try:
            node, _raw = _parse("\n".join(lines[:end]) + "\n")
        except yaml.YAMLError:
            continue
        if node is None:
            return ""
        out = {}
        _line_map(node, "", out, [])
        best = ""
        for path, ln in out.items():
            if ln <= line and (not best or (ln, len(path)) >= (out[best], len(best))):
                best = path
        return best
    return ""


def parse_policy_text(text: str) -> tuple[dict | None, list[Problem]]:
    """Parse YAML text and validate it; problems carry line numbers.

    A YAML syntax error is reported on its own line and item; the line is then left
    out and parsing goes on (up to 20 times), so one run lists every problem. Returns
    (data, problems); data is None only when the text is not usable YAML.
    """
    syntax: list[Problem] = []
    left_out: set[str] = set()  # keys on the lines left out
    work = text.split("\n")
    node = raw = None
    for _attempt in range(20):
        try:
            node, raw = _parse("\n".join(work))
            break
        except yaml.YAMLError as e:
            line, zh, en = _yaml_problem(e)
            path = _path_at("\n".join(work), line) if line else ""
            item = _Checker(None, _safe_partial("\n".join(work[: (line or 1) - 1]))).item(path)
            syntax.append(Problem(path, zh, en, line, item))
            if not line or line > len(work) or not work[line - 1].strip():
                return None, syntax
            key = re.match(r"^\s*(?:-\s+)?([A-Za-z_]\w*):", work[line - 1])
            if key:
                left_out.add(key.group(1))
            work[line - 1] = ""  # leave the broken line out and read on
    else:
        return None, syntax
    if node is None or not isinstance(raw, dict):
        return None, syntax or [
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
    problems = syntax + dup + validate_policy(data, lines)
    if syntax:
        # A field on the line left out may be reported missing: that is the same fault.
        problems = syntax + [
            p
            for p in dup + validate_policy(data, lines)
            if not (p.message_en == "is required" and p.path.rsplit(".", 1)[-1] in left_out)
        ]
    return (None if syntax else data), problems


def _safe_partial(text: str) -> Any:
    try:
        return _parse(text)[1]
    except yaml.YAMLError:
        return None


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
