"""The contact roster (联系人名册) as an .xlsx in the layout districts keep: one row per
household — town, village, household number, head, category — then each contact
person's role, name, unit and position, and phone (masked: the roster leaves the portal)."""

from __future__ import annotations

import io
from collections.abc import Callable

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from portal.register import pii


def roster_workbook(rows: list, role_label: Callable[[str], str]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = _("Contact roster")
    width = max((len(r.contacts) for r in rows), default=0) or 1
    head = [_("No."), _("Town"), _("Village"), _("Household number"), _("Head of household")]
    for i in range(width):
        n = i + 1
        head += [
            _("Contact %(n)s role", n=n),
            _("Contact %(n)s name", n=n),
            _("Contact %(n)s unit and position", n=n),
            _("Contact %(n)s phone", n=n),
        ]
    ws.append(head)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, r in enumerate(rows, start=1):
        h = r.household
        line = [i, h.town.name, h.village.name, h.number, h.head_name]
        for c in r.contacts:
            line += [
                role_label(c.role),
                c.name,
                f"{c.unit} {c.position}".strip(),
                pii.mask_phone(c.phone),
            ]
        ws.append(line)
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
