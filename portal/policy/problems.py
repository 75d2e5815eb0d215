"""What is wrong with a policy file: `Problem` (path, both languages, line, item), the
`PolicyInvalid` error, "did you mean" suggestions and the `Checker` that collects problems
while `portal.policy.schema` walks the data."""

from __future__ import annotations

import datetime as dt
import decimal
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from portal.kernel.rules import RuleError


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


def codes_list(table: dict[str, tuple[str, str]] | Iterable[str]) -> str:
    return ", ".join(sorted(table))


def labelled(table: dict[str, tuple[str, str]], lang: str) -> str:
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


def _with_name(table: Any, code: str, english: bool) -> str:
    """`code` followed by its name from `table` (a tuple's zh or en part; a bare string is
    Chinese only), for the hint "did you mean …?"."""
    v = table.get(code) if isinstance(table, dict) else None
    if isinstance(v, str):
        v = (v, None)
    name = v[1 if english else 0] if isinstance(v, tuple) else None
    if name is None:
        return code
    return f"{code} ({name})" if english else f"{code}（{name}）"


def zh_label(table: Any, code: str) -> str:
    return _with_name(table, code, english=False)


def en_label(table: Any, code: str) -> str:
    return _with_name(table, code, english=True)


MEASURE_PATH = re.compile(r"^measures\[(\d+)\]")
DEPARTMENT_PATH = re.compile(r"^departments\[(\d+)\]")


class Checker:
    """Walks the data once, collecting problems; `lines` maps paths to YAML lines."""

    def __init__(self, lines: dict[str, int] | None, data: Any = None) -> None:
        self.problems: list[Problem] = []
        self.lines = lines or {}
        self.data = data if isinstance(data, dict) else {}
        self.benefit_names: set[str] = set()  # for entitlements that refer to another

    # -- reporting ---------------------------------------------------------------
    def item(self, path: str) -> str:
        """The document's own number for the measure (or the department's key) at `path`."""
        m = MEASURE_PATH.match(path)
        if m:
            items = self.data.get("measures")
            i = int(m.group(1))
            if isinstance(items, list) and i < len(items) and isinstance(items[i], dict):
                number = items[i].get("number")
                if isinstance(number, str | int) and not isinstance(number, bool):
                    return f"m:{number}"
            return ""
        m = DEPARTMENT_PATH.match(path)
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
            shorter = PARENT_PATH.sub("", probe)
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
                    join_path(path, str(key)),
                    f"未知字段 {key}；是否应为 {guess}？",
                    f"unknown field {key}; did you mean {guess}?",
                )
            else:
                self.add(
                    join_path(path, str(key)),
                    f"未知字段 {key}；允许的字段：{codes_list(allowed)}",
                    f"unknown field {key}; allowed fields: {codes_list(allowed)}",
                )
        for key in required:
            if key in missing and key not in meant:  # a misspelt key is reported once
                self.add(join_path(path, key), "必填", "is required")
        return True

    def text(
        self, obj: dict, key: str, path: str, *, required: bool = False, max_len: int = 0
    ) -> str | None:
        p = join_path(path, key)
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
        p = join_path(path, key)
        out = []
        for i, item in enumerate(self.list_of(obj, key, path)):
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
        p = join_path(path, key)
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
                f"不是已知的{what[0]}代码（{value!r}）；是否应为 {zh_label(table, guess)}？",
                f"is not a known {what[1]} code ({value!r}); did you mean {en_label(table, guess)}?",
            )
        elif isinstance(table, dict) and all(isinstance(v, tuple) for v in table.values()):
            self.add(
                p,
                f"不是已知的{what[0]}代码（{value!r}）；可用：{labelled(table, 'zh')}",
                f"is not a known {what[1]} code ({value!r}); allowed: {labelled(table, 'en')}",
            )
        else:
            self.add(
                p,
                f"不是已知的{what[0]}代码（{value!r}）；可用：{codes_list(table)}",
                f"is not a known {what[1]} code ({value!r}); allowed: {codes_list(table)}",
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
        p = join_path(path, key)
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
        p = join_path(path, key)
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
        p = join_path(path, key)
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
            self.add(join_path(path, key), "必须是 true 或 false", "must be true or false")

    def list_of(self, obj: dict, key: str, path: str, *, required: bool = False) -> list:
        p = join_path(path, key)
        value = obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(p, "必须是列表", "must be a list")
            return []
        if required and not value:
            self.add(p, "不能为空列表", "must not be an empty list")
        return value


PARENT_PATH = re.compile(r"(^|\.)[^.\[\]]+$|\[\d+\]$")


def join_path(path: str, key: str) -> str:
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
