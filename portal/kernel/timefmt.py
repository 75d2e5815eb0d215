"""How a time is shown: one helper and one format per language for the whole app.

Times are stored in UTC (naive values are UTC). People see them in their district's zone
(`clock.local`: the tenant of the request, Asia/Shanghai by default) as
"2026年12月6日 07:37" in Chinese and "6 Dec 2026, 07:37" in English — never with "UTC"
and never as an ISO string. Templates use the `datetime` (alias `localtime`) and `date`
filters; Python code (exports, composed audit summaries) calls `format_datetime`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, g, has_request_context

from portal.kernel import clock

_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _english() -> bool:
    """English for an English reader; looked up once per request (a page shows many times)."""
    if not has_request_context():
        return False
    cached = g.get("_timefmt_english")
    if cached is None:
        try:
            from flask_babel import get_locale

            locale = get_locale()
        except Exception:  # noqa: BLE001 - no Babel in this context: Chinese, the default
            locale = None
        cached = g._timefmt_english = locale is not None and str(locale).startswith("en")
    return cached


def _tenant() -> Any:
    return g.get("tenant") if has_request_context() else None


def parse(value: Any) -> dt.datetime | dt.date | None:
    """A datetime, a date, or an ISO string of either (as audit change data holds them)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value
    if isinstance(value, str):
        text = value.strip().removesuffix("Z")
        try:
            return (
                dt.datetime.fromisoformat(text)
                if "T" in text or " " in text
                else (dt.date.fromisoformat(text))
            )
        except ValueError:
            return None
    return None


def format_date(value: Any, english: bool | None = None) -> str:
    """A calendar date (no zone): 2026年12月6日 / 6 Dec 2026."""
    day = parse(value)
    if day is None:
        return "" if value in (None, "") else str(value)
    if isinstance(day, dt.datetime):
        day = clock.local(day, _tenant()).date()  # type: ignore[union-attr]
    english = _english() if english is None else english
    if english:
        return f"{day.day} {_EN_MONTHS[day.month - 1]} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


def format_month(value: Any, english: bool | None = None) -> str:
    """A calendar month (a payment cycle's): 2026年10月 / Oct 2026."""
    day = parse(value)
    if day is None:
        return "" if value in (None, "") else str(value)
    english = _english() if english is None else english
    if english:
        return f"{_EN_MONTHS[day.month - 1]} {day.year}"
    return f"{day.year}年{day.month}月"


def format_datetime(value: Any, tenant: Any = None, english: bool | None = None) -> str:
    """A stored instant in the district's zone: 2026年12月6日 07:37 / 6 Dec 2026, 07:37."""
    moment = parse(value)
    if moment is None:
        return "" if value in (None, "") else str(value)
    if not isinstance(moment, dt.datetime):
        return format_date(moment, english)
    local = clock.local(moment, tenant if tenant is not None else _tenant())
    assert local is not None
    english = _english() if english is None else english
    clock_text = f"{local.hour:02d}:{local.minute:02d}"
    if english:
        return f"{local.day} {_EN_MONTHS[local.month - 1]} {local.year}, {clock_text}"
    return f"{local.year}年{local.month}月{local.day}日 {clock_text}"


def _filter_datetime(value: Any, *_ignored: Any) -> str:
    return format_datetime(value)


def init_app(app: Flask) -> None:
    """Register the filters (`datetime`, `localtime`, `date`, `month`); Babel's `datetimeformat` is
    routed here too so every template shows one format."""
    app.add_template_filter(_filter_datetime, "datetime")
    app.add_template_filter(_filter_datetime, "localtime")
    app.add_template_filter(_filter_datetime, "datetimeformat")
    app.add_template_filter(format_date, "date")
    app.add_template_filter(format_month, "month")
    app.add_template_global(format_datetime, "format_datetime")
