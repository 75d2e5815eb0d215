"""XLSX export of a period's duty status and progress: a summary sheet, then one per department.

Every text cell that a spreadsheet could read as a formula (= + - @, tab, CR) is
prefixed with ' so Excel and WPS show it as text (CSV/formula injection).
"""

from __future__ import annotations

import io
import re
from typing import Any

from flask import g
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from portal.duties import queries
from portal.duties.generation import record_period
from portal.duties.models import DutyStatus, ProgressEntry
from portal.kernel import timefmt
from portal.kernel.periods import Period

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
HEADER_FILL = PatternFill("solid", fgColor="DDE7F3")


def neutralise(value: Any) -> Any:
    """Text that starts like a formula becomes literal text; numbers and dates stay."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _sheet_title(name: str, used: set[str]) -> str:
    base = SHEET_BAD.sub("_", name).strip("'")[:28] or "sheet"
    title, n = base, 2
    while title.lower() in used:
        title = f"{base[:25]}({n})"
        n += 1
    used.add(title.lower())
    return title


def _write(ws: Any, row: list[Any], bold: bool = False) -> None:
    ws.append([neutralise(v) for v in row])
    if bold:
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL


def _widths(ws: Any, widths: list[int]) -> None:
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w


def _local(value: Any) -> str:
    """A stored UTC instant in the district's zone, in the one format of every page."""
    return timefmt.format_datetime(value, g.get("tenant")) if value else ""


def build_workbook(
    period: Period | str, status_label: Any, assessment_label: Any, role_label: Any
) -> bytes:
    """The workbook for `period` in the current scope; three queries whatever its size.

    Overdue is `queries.is_overdue` (as on the home page); times are in the district's
    zone; the half-year is shown by its label (2026年下半年)."""
    half = Period.parse(period)
    duty_rows = queries.period_rows(half)
    entries = queries.period_entries(half)
    by_duty: dict[Any, list[ProgressEntry]] = {}
    for entry in entries:
        by_duty.setdefault(entry.duty_id, []).append(entry)

    wb = Workbook()
    summary = wb.active
    summary.title = _("Summary")
    used = {summary.title.lower()}
    _write(summary, [_("Duty status for %(period)s", period=half.label)], bold=True)
    statuses = list(DutyStatus)
    _write(
        summary,
        [_("Department"), *[status_label(s) for s in statuses], _("Overdue"), _("Total")],
        bold=True,
    )
    departments: dict[Any, list[queries.DutyRow]] = {}
    for r in duty_rows:
        departments.setdefault(r.duty.department_id, []).append(r)
    for rows in departments.values():
        counts = {s: sum(1 for r in rows if r.duty.status == s) for s in statuses}
        _write(
            summary,
            [
                rows[0].duty.department.name,
                *counts.values(),
                sum(1 for r in rows if r.overdue),
                len(rows),
            ],
        )
    _widths(summary, [36] + [12] * (len(statuses) + 2))

    duty_header = [
        _("Measure no."),
        _("Measure"),
        _("Responsibility"),
        _("Status"),
        _("Overdue"),
        _("Assessment"),
        _("Reason"),
        _("Sign-off statement"),
        _("Submitted at"),
        _("Review note"),
        _("Due date"),
        _("Entries"),
        _("Families reached"),
        _("Amount paid (元)"),
    ]
    entry_header = [
        _("Measure no."),
        _("Date of the work"),
        _("What was done"),
        _("Families reached"),
        _("Amount paid (元)"),
        _("Evidence files"),
    ]
    for rows in departments.values():
        ws = wb.create_sheet(_sheet_title(rows[0].duty.department.name, used))
        _write(ws, [rows[0].duty.department.name, half.label], bold=True)
        _write(ws, duty_header, bold=True)
        for r in rows:
            d = r.duty
            _write(
                ws,
                [
                    d.measure_number,
                    d.measure.title,
                    role_label(d.role),
                    status_label(d.status),
                    _("yes") if r.overdue else "",
                    assessment_label(d.assessment) if d.assessment else "",
                    d.assessment_reason,
                    d.sign_off_statement,
                    _local(d.submitted_at),
                    d.review_note,
                    d.due_date,
                    r.entries,
                    r.families,
                    float(r.amount),
                ],
            )
        ws.append([])
        _write(ws, [_("Progress entries")], bold=True)
        _write(ws, entry_header, bold=True)
        for r in rows:
            for e in by_duty.get(r.duty.id, []):
                _write(
                    ws,
                    [
                        r.duty.measure_number,
                        e.work_date,
                        e.narrative,
                        e.families_reached,
                        float(e.amount_paid),
                        "; ".join(f"{f.filename} (sha256 {f.sha256[:12]}…)" for f in e.evidence),
                    ],
                )
        for row in ws.iter_rows(min_row=3):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                if hasattr(cell.value, "isoformat"):
                    cell.number_format = "yyyy-mm-dd"
        _widths(ws, [12, 40, 12, 12, 8, 14, 30, 40, 18, 30, 12, 8, 12, 14])
        ws.freeze_panes = "A3"
    if not departments:
        _write(summary, [_("No duties for this period.")])
    buffer = io.BytesIO()
    wb.save(buffer)
    counts = {"period": half.code, "duties": len(duty_rows), "entries": len(entries)}
    record_period("duties.export", half, counts)
    return buffer.getvalue()
