"""Half-year periods (2026年下半年 / 2026 H2): the one place that parses and computes them.

Duties, meetings, reports and benchmarks all work per half-year. A `Period` is stored
and put in URLs by its `code` ("2026H2"); people see its `label` and choose it from a
list (`Period.choices`), never type the code.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from portal.kernel.rules import RuleError

_CODE = re.compile(r"^(\d{4})\s*H\s*([12])$")
_ZH = re.compile(r"^(\d{4})\s*年\s*(上|下)\s*半年$")
MIN_YEAR, MAX_YEAR = 2000, 2100


@dataclass(frozen=True, order=True)
class Period:
    """One half-year: `half` is 1 (January–June) or 2 (July–December)."""

    year: int
    half: int

    # --- making one ---------------------------------------------------------------------

    @classmethod
    def parse(cls, value: Any, field: str = "period") -> Period:
        """From "2026H2" (any case, spaces allowed) or "2026年下半年"; a `RuleError` on
        the named field otherwise."""
        if isinstance(value, Period):
            return value
        text = str(value or "").strip().upper()
        match = _CODE.match(text)
        if match:
            year, half = int(match.group(1)), int(match.group(2))
        else:
            zh = _ZH.match(str(value or "").strip())
            if not zh:
                raise RuleError(_l("Choose a half-year such as 2026年下半年."), field=field)
            year, half = int(zh.group(1)), 1 if zh.group(2) == "上" else 2
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise RuleError(
                _l("The year must be between %(low)s and %(high)s.", low=MIN_YEAR, high=MAX_YEAR),
                field=field,
            )
        return cls(year, half)

    @classmethod
    def of(cls, day: dt.date) -> Period:
        """The half-year a day falls in."""
        return cls(day.year, 1 if day.month <= 6 else 2)

    @classmethod
    def current(cls) -> Period:
        from portal.kernel.clock import today

        return cls.of(today())

    @classmethod
    def choices(cls, around: Period | None = None, back: int = 4, ahead: int = 1) -> list[Period]:
        """Periods for a selector, newest first."""
        centre = around or cls.current()
        return [centre.shift(k) for k in range(ahead, -back - 1, -1)]

    # --- what it is ---------------------------------------------------------------------

    @property
    def code(self) -> str:
        return f"{self.year}H{self.half}"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 1, 1) if self.half == 1 else dt.date(self.year, 7, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, 6, 30) if self.half == 1 else dt.date(self.year, 12, 31)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def shift(self, halves: int) -> Period:
        index = self.year * 2 + self.half - 1 + halves
        return Period(index // 2, index % 2 + 1)

    @property
    def next(self) -> Period:
        return self.shift(1)

    @property
    def previous(self) -> Period:
        return self.shift(-1)

    def label_in(self, locale: str) -> str:
        if locale.startswith("en"):
            return f"{self.year} H{self.half}"
        return f"{self.year}年{'上' if self.half == 1 else '下'}半年"

    @property
    def label(self) -> str:
        """2026年下半年 in Chinese, 2026 H2 in English (the request's or CLI's locale)."""
        try:
            locale = str(get_locale() or "zh_Hans_CN")
        except Exception:  # noqa: BLE001 - outside a request or app context
            locale = "zh_Hans_CN"
        return self.label_in(locale)

    def __str__(self) -> str:
        return self.code


def code(value: Any, field: str = "period") -> str:
    """A validated period code ("2026H2") from any accepted spelling."""
    return Period.parse(value, field).code


def label(value: Any) -> str:
    """The label of a stored code; text that is not a period is returned as it is."""
    try:
        return Period.parse(value).label
    except RuleError:
        return str(value or "")
