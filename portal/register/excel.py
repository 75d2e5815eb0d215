"""Excel in and out, the sheet side: the masked register export, the two-column areas
sheet, and the cell helpers the import uses (`importing`: upload → column mapping →
validated preview → import).
"""

from __future__ import annotations

import io
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook, load_workbook

from portal.register import pii
from portal.register.models import Household
from portal.register.rules import RegisterError

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


# -- export ----------------------------------------------------------------------------


def export_households(
    rows: list[Household], on: Any, labels: dict[str, Any], full: bool = False
) -> bytes:
    """The register as .xlsx, masked (ID 4101**********1234, phone 138****5678) unless a
    full export was granted, reasoned and recorded by the caller."""
    show_id = (lambda v: v or "") if full else pii.mask_id
    show_phone = (lambda v: v or "") if full else pii.mask_phone
    wb = Workbook()
    ws = wb.active
    ws.title = "register"
    ws.append(
        [
            _("File number"),
            _("Town"),
            _("Village"),
            _("Category"),
            _("Grade"),
            _("Status"),
            _("Exit reason"),
            _("Full name"),
            _("Relationship"),
            _("Resident ID number"),
            _("Phone"),
            _("Age"),
            _("Alive"),
            _("Date registered"),
        ]
    )
    for h in rows:
        for p in h.persons:
            ws.append(
                [
                    neutralise(v)
                    for v in [
                        h.number,
                        h.town.name,
                        h.village.name,
                        labels["category"](h.category),
                        h.level,
                        labels["status"](h.status),
                        labels["exit"](h.exit_reason) if h.exit_reason else "",
                        p.name,
                        labels["relationship"](p.relationship_),
                        show_id(p.id_number),
                        show_phone(p.phone),
                        p.age(on),
                        _("yes") if p.alive else _("no"),
                        h.registered_on.isoformat(),
                    ]
                ]
            )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def read_two_columns(stream: Any) -> list[tuple[str, str]]:
    """Town and village, one pair a row; a first row of headings is skipped."""
    ws = open_sheet(stream)
    rows = []
    for i, row in enumerate(ws.iter_rows(values_only=True)):
        cells = [str(c).strip() if c is not None else "" for c in list(row)[:2]] + ["", ""]
        if i == 0 and cells[0] in ("街镇", "街道", "乡镇", "town", "Town"):
            continue
        if cells[0]:
            rows.append((cells[0][:80], cells[1][:80]))
    return rows


def open_sheet(stream: Any) -> Any:
    try:
        wb = load_workbook(stream, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable upload
        raise RegisterError(_l("The file is not an Excel workbook (.xlsx)."), "file") from None
    return wb.worksheets[0]


def cell_text(value: Any) -> str:
    """A cell as text: dates as YYYY-MM-DD, whole floats without their .0."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()
