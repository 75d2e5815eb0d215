"""Generic protection against input no view should ever see: one place, not per view.

- NUL bytes: PostgreSQL refuses them in text, so a `\\0` anywhere in a path, query
  argument, form field, upload name or JSON string would end as a server error deep in a
  query. `find_nul` finds them before routing reaches a view.
- JSON: a lone surrogate (`"\\ud800"`) cannot be stored or encoded, and 100,000 nested
  `[` overflow the parser's recursion. `checked_json` refuses both at parse time.
- Numbers: page numbers and cursors are clamped before they become an OFFSET or a
  comparison against a 64-bit column.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

MAX_JSON_DEPTH = 32
MAX_PAGE = 100_000
MAX_BIGINT = 2**63 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")


class BadJSON(ValueError):
    """The body parsed, or would have, but is not something the app can store."""


def _integer(value: Any) -> int | None:
    """A query argument read as an integer (its first 20 characters), or None."""
    if value is None or value == "":
        return None
    try:
        return int(str(value).strip()[:20])
    except ValueError:
        return None


def page_number(value: Any, default: int = 1, maximum: int = MAX_PAGE) -> int:
    """A 1-based page number from a query argument: junk or < 1 gives `default`, huge is
    clamped to `maximum` (an empty last page rather than an overflowing OFFSET)."""
    number = _integer(value)
    if number is None or number < 1:
        return default
    return min(number, maximum)


def bounded_int(value: Any, maximum: int = MAX_BIGINT, minimum: int = 0) -> int | None:
    """An integer cursor (sequence number, id) that fits a BIGINT, or None when it is not one."""
    number = _integer(value)
    if number is None or number < minimum or number > maximum:
        return None
    return number


def where_given(stmt: Any, *equal: tuple[Any, Any]) -> Any:
    """A list's optional filters: `column == value` for each (column, value) pair whose
    value was given (None, "" and 0 mean "any")."""
    for column, value in equal:
        if value:
            stmt = stmt.where(column == value)
    return stmt


def contains_pattern(search: str) -> str:
    """A search box's text as a LIKE pattern matching it anywhere; the user's `%` and `_`
    are dropped (they would match everything)."""
    return f"%{search.replace('%', '').replace('_', '')}%"


def matching(search: str, *columns: Any) -> Any:
    """The condition "any of `columns` contains `search`, ignoring case" for a list's
    search box (one spelling of it for every list)."""
    import sqlalchemy as sa

    like = contains_pattern(search)
    return sa.or_(*(column.ilike(like) for column in columns))


def _strings(value: Any) -> Iterable[str]:
    """Every string in a parsed JSON value (keys included), without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for k, v in item.items():
                yield str(k)
                stack.append(v)
        elif isinstance(item, list):
            stack.extend(item)


def has_nul(values: Iterable[str]) -> bool:
    return any("\x00" in v for v in values)


def find_nul(
    path: str, args: Any, form: Any = None, files: Any = None, json_value: Any = None
) -> bool:
    """True when any part of the request carries a NUL byte."""
    if "\x00" in path:
        return True
    for multi in (args, form):
        if multi is None:
            continue
        for key, values in multi.lists():
            if "\x00" in key or has_nul(values):
                return True
    if files is not None:
        for key, storage in files.items(multi=True):
            if "\x00" in key or "\x00" in (storage.filename or ""):
                return True
    return json_value is not None and has_nul(_strings(json_value))


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a parsed JSON value, iteratively (never itself a recursion risk)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((c, depth + 1) for c in children)
    return deepest


def checked_json(text: str | bytes, **kwargs: Any) -> Any:
    """`json.loads` that refuses what the app could not store: deep nesting, lone surrogates."""
    if isinstance(text, bytes | bytearray):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise BadJSON("the body is not UTF-8") from e
    try:
        value = json.loads(text, **kwargs)
    except RecursionError as e:  # the C parser gives up cleanly, well before the stack does
        raise BadJSON("nested too deeply") from e
    if _depth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise BadJSON("nested too deeply")
    if any(_SURROGATE.search(s) for s in _strings(value)):
        raise BadJSON("a lone surrogate code point")
    return value
