"""The joint-meeting rules: errors, who may do what, and the invariants every write keeps.

Everything here is pure: no query, no write. Operations (`arrangement`, `agenda`,
`attendance`, `reports`, `minutes`, `decisions`) call these checks before they change a
row; views call the `can_*` predicates to decide what to offer. Errors derive from the
kernel's `RuleError` family, so the one unit of work turns them into a message beside
the field (UI) or `{"error": ...}` (API).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.kernel import grants, rules, timefmt
from portal.kernel.clock import today
from portal.kernel.rules import ConflictError, NotAllowed, NotFound, RuleError

__all__ = [
    "ConflictError",
    "MeetingError",
    "NotAllowed",
    "NotFound",
    "RuleError",
]

MAX_TEXT = 20000
MAX_LINE = 300
CHINESE_NUMERALS = "〇一二三四五六七八九"
TIME_RE = re.compile(r"^([01]?\d|2[0-3]):[0-5]\d$")

MANAGE, REPORT, UPDATE_ITEM = "meeting.manage", "meeting.report", "action_item.update"


class MeetingError(RuleError):
    """A rule of the joint-meeting domain was broken."""


# --- who may do what (the kernel's grant table; never a role comparison) ----------------


def require(user: Any, grant: str) -> None:
    grants.require(user, grant)


def can_manage(user: Any) -> bool:
    """The lead prepares, holds, minutes and follows up meetings."""
    return grants.can(user, MANAGE)


def can_report(user: Any) -> bool:
    """A department officer writes their department's report and comments on minutes."""
    return grants.can(user, REPORT)


def can_update_items(user: Any) -> bool:
    return grants.can(user, UPDATE_ITEM)


# --- records that stand -------------------------------------------------------------------


def locked_message() -> Any:
    return _l(
        "The minutes of this meeting are finalised, so its record is locked. Reopen the "
        "minutes (with a reason, recorded in the audit trail) to change it."
    )


def check_open(minutes: Any, field: str | None = None) -> None:
    """Finalised minutes lock the agenda, attendance, reports and decisions."""
    if minutes is not None and minutes.locked:
        raise MeetingError(locked_message(), field=field)


def check_agenda_redraftable(meeting: Any) -> None:
    """A held meeting keeps its historical agenda: it is never drafted again from today's data."""
    from portal.meetings.models import MeetingStatus

    if meeting.status == MeetingStatus.held or meeting.meeting_date < today():
        raise MeetingError(
            _l(
                "This meeting has been held; its agenda is part of the record and is not "
                "drafted again from today's data."
            )
        )


def check_attendance_day(meeting: Any) -> None:
    """Attendance is recorded on or after the meeting's day, never ahead of it."""
    if today() < meeting.meeting_date:
        raise MeetingError(
            _l(
                "Attendance can be recorded from the day of the meeting (%(day)s).",
                day=timefmt.format_date(meeting.meeting_date),
            ),
            field="attendance",
        )


def check_held_date(meeting: Any, status: Any) -> None:
    """The meeting's state follows its date: it cannot be 'held' before its day."""
    from portal.meetings.models import MeetingStatus

    if status == MeetingStatus.held and today() < meeting.meeting_date:
        raise MeetingError(
            _l(
                "A meeting can be marked as held from its date (%(day)s).", day=meeting.meeting_date
            ),
            field="status",
        )


check_version = rules.check_version  # required; a missing version names `row_version`


def flush() -> None:
    rules.flush()


# --- input ------------------------------------------------------------------------------------


def text(value: Any, name: str, *, required: bool = False, limit: int = MAX_LINE) -> str:
    """A trimmed text value; the message stands beside the field, so it does not repeat
    the field's label."""
    asked = _l("Fill this in.") if required else None
    return rules.clean_text(value, name, limit, required=asked, error=MeetingError)


def date(value: Any, name: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    raw = str(value or "").strip()
    if not raw:
        raise MeetingError(_l("Choose a date."), field=name)
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise MeetingError(_l("Enter a date like 2026-12-20."), field=name) from None
    if not 2000 <= day.year <= 2100:
        raise MeetingError(_l("The date is out of range."), field=name)
    return day


def start_time(value: Any) -> str:
    raw = text(value, "start_time", limit=20)
    if raw and not TIME_RE.match(raw):
        raise MeetingError(_l("Enter a time like 09:30."), field="start_time")
    return raw


# --- numbers and order -----------------------------------------------------------------------


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 23 → 二十三 (decision numbering 一、二、三…)."""
    if n <= 0:
        return str(n)
    if n < 10:
        return CHINESE_NUMERALS[n]
    if n < 20:
        return "十" + (CHINESE_NUMERALS[n % 10] if n % 10 else "")
    if n < 100:
        return CHINESE_NUMERALS[n // 10] + "十" + (CHINESE_NUMERALS[n % 10] if n % 10 else "")
    return str(n)


_ZH_DIGITS = {c: i for i, c in enumerate(CHINESE_NUMERALS)} | {"零": 0, "两": 2}
_CHUNK = re.compile(r"\d+|[〇零一二两三四五六七八九十百]+|\D")


def _zh_value(chunk: str) -> int | None:
    total, current = 0, 0
    for ch in chunk:
        if ch in _ZH_DIGITS:
            current = _ZH_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def natural_key(value: Any) -> tuple:
    """Measure numbers in natural order: 2 before 10, 二 before 十, 4.2 before 4.10."""
    key: list[tuple[int, Any]] = []
    for chunk in _CHUNK.findall(str(value or "")):
        if chunk.isdigit():
            key.append((0, int(chunk)))
        else:
            n = _zh_value(chunk) if chunk[0] in _ZH_DIGITS or chunk[0] in "十百" else None
            key.append((0, n) if n is not None else (1, chunk))
    return tuple(key)
