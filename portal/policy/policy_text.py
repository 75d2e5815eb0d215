"""A policy file's YAML text → data and problems with line numbers (then validated by
`portal.policy.schema.validate_policy`); dates are kept as text so an impossible date is
a problem, not a crash."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml

from portal.policy.problems import (
    Checker,
    Problem,
    join_path,
    to_date,
)
from portal.policy.schema import (
    validate_policy,
)

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
            sub = join_path(path, key)
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
        return {k: _normalise_dates(v, join_path(path, str(k)), date_paths) for k, v in obj.items()}
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
        "did not find expected ',' or ']'",
        "方括号 [ 没有闭合，或列表项之间缺少逗号",
        "a '[' is not closed, or a ',' is missing between list items",
    ),
    (
        "did not find expected ',' or '}'",
        "花括号 { 没有闭合，或字段之间缺少逗号",
        "a '{' is not closed, or a ',' is missing between fields",
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
            if needle == "found unexpected end of stream" or "did not find expected ','" in needle:
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
            item = Checker(None, _safe_partial("\n".join(work[: (line or 1) - 1]))).item(path)
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
