"""Gregorian dates of the lunar festivals the policies name (春节, 中秋, 重阳).

No lunar-calendar library is installed, so this is an explicit table for the years the
portal serves (2020–2030), checked against the published calendars; a year outside it
is a `RuleError`, never a guessed date. Extending it is one line per year
(docs/care.md says so).
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from portal.kernel.rules import RuleError

D = dt.date
# year: (春节 正月初一, 中秋 八月十五, 重阳 九月初九)
_TABLE: dict[int, tuple[dt.date, dt.date, dt.date]] = {
    2020: (D(2020, 1, 25), D(2020, 10, 1), D(2020, 10, 25)),
    2021: (D(2021, 2, 12), D(2021, 9, 21), D(2021, 10, 14)),
    2022: (D(2022, 2, 1), D(2022, 9, 10), D(2022, 10, 4)),
    2023: (D(2023, 1, 22), D(2023, 9, 29), D(2023, 10, 23)),
    2024: (D(2024, 2, 10), D(2024, 9, 17), D(2024, 10, 11)),
    2025: (D(2025, 1, 29), D(2025, 10, 6), D(2025, 10, 29)),
    2026: (D(2026, 2, 17), D(2026, 9, 25), D(2026, 10, 18)),
    2027: (D(2027, 2, 6), D(2027, 9, 15), D(2027, 10, 8)),
    2028: (D(2028, 1, 26), D(2028, 10, 3), D(2028, 10, 26)),
    2029: (D(2029, 2, 13), D(2029, 9, 22), D(2029, 10, 16)),
    2030: (D(2030, 2, 3), D(2030, 9, 12), D(2030, 10, 5)),
}
_INDEX = {"spring_festival": 0, "mid_autumn": 1, "double_ninth": 2}
YEARS = range(min(_TABLE), max(_TABLE) + 1)


def festival_date(code: str, year: int) -> dt.date:
    """The festival's date in `year` (a `CARE_FESTIVALS` code)."""
    if code not in _INDEX:
        raise RuleError(_l("Unknown festival."), field="festival")
    if year not in _TABLE:
        raise RuleError(
            _l("Festival dates are known for %(lo)s–%(hi)s only.", lo=YEARS[0], hi=YEARS[-1]),
            field="festival",
        )
    return _TABLE[year][_INDEX[code]]


def window(code: str, year: int) -> tuple[dt.date, dt.date]:
    """The days a visit counts for that festival: from 30 days before to the day itself.

    The documents say a visit is made at (not after) the festival; the 30 days before
    are where 慰问 normally happen (inferred: the documents give no window)."""
    day = festival_date(code, year)
    return day - dt.timedelta(days=30), day
