"""The district's bank file layout (代发文件格式): which columns the bank .xlsx carries, in
which order, under which Chinese headings. The district lead sets it (`district.configure`)
to the format its bank asks for; without a setting the file keeps the documented generic
layout (`DEFAULT_LAYOUT`, no real bank's format). The bank's results come back in the same
layout: the columns the import needs (`REQUIRED`) can be renamed and moved, never left out.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.benefits.models import BankLayout
from portal.benefits.operations import deny, name_of
from portal.benefits.rules import BenefitsError, can_set_bank_layout
from portal.extensions import db
from portal.kernel.rules import ConflictError, check_version

#: Every field a bank file may carry, with its heading in the generic layout, in order.
DEFAULT_LAYOUT: list[tuple[str, str]] = [
    ("line_id", "明细编号"),
    ("position", "序号"),
    ("household", "户编号"),
    ("holder", "收款人"),
    ("bank", "开户银行"),
    ("account", "银行账号"),
    ("amount", "金额"),
    ("standard", "扶助项目"),
    ("period", "所属月份"),
    ("result", "发放结果"),
    ("reason", "失败原因"),
]
FIELDS = dict(DEFAULT_LAYOUT)
#: Matching results line by line needs these; the bank needs the account to pay.
REQUIRED = ("line_id", "account", "amount", "result", "reason")
FIELD_LABELS = {
    "line_id": _l("Line id (matches the results)"),
    "position": _l("Line number"),
    "household": _l("Household number"),
    "holder": _l("Account holder"),
    "bank": _l("Bank"),
    "account": _l("Bank account number"),
    "amount": _l("Amount"),
    "standard": _l("Benefit standard"),
    "period": _l("Month"),
    "result": _l("Payment result (filled in by the bank)"),
    "reason": _l("Failure reason (filled in by the bank)"),
}
MAX_HEADING = 20


def current() -> BankLayout | None:
    return db.session.execute(sa.select(BankLayout)).scalars().first()


def layout() -> list[tuple[str, str]]:
    """The district's columns as (field, heading), in order (the default without a row)."""
    row = current()
    if row is None or not row.columns:
        return list(DEFAULT_LAYOUT)
    return [(str(f), str(h)) for f, h in row.columns if f in FIELDS]


def parse(form: Any) -> list[tuple[str, str]]:
    """The layout from the form: `pos_<field>` (1, 2, …; empty: left out) and
    `head_<field>` per field; a `BenefitsError` naming the field at fault otherwise."""
    chosen: list[tuple[int, str, str]] = []
    seen_pos: dict[int, str] = {}
    seen_head: dict[str, str] = {}
    for key in FIELDS:
        column = FIELD_LABELS[key]
        raw = str(form.get(f"pos_{key}") or "").strip()
        if not raw:
            if key in REQUIRED:
                raise BenefitsError(
                    _l(
                        "%(column)s: this column is needed to match the bank's results; "
                        "give it a position.",
                        column=column,
                    ),
                    f"pos_{key}",
                )
            continue
        try:
            pos = int(raw)
        except ValueError:
            pos = 0
        if not 1 <= pos <= len(FIELDS):
            raise BenefitsError(
                _l("%(column)s: enter a position from 1 to %(n)d.", column=column, n=len(FIELDS)),
                f"pos_{key}",
            )
        if pos in seen_pos:
            raise BenefitsError(
                _l("%(column)s: another column has the same position.", column=column),
                f"pos_{key}",
            )
        heading = " ".join(str(form.get(f"head_{key}") or "").split())
        if not 1 <= len(heading) <= MAX_HEADING or heading[0] in "=+-@":
            raise BenefitsError(
                _l(
                    "%(column)s: enter a heading of 1 to %(n)d characters (not starting with "
                    "= + - @).",
                    column=column,
                    n=MAX_HEADING,
                ),
                f"head_{key}",
            )
        if heading in seen_head:
            raise BenefitsError(
                _l("%(column)s: another column has the same heading.", column=column),
                f"head_{key}",
            )
        seen_pos[pos], seen_head[heading] = key, key
        chosen.append((pos, key, heading))
    return [(key, heading) for _pos, key, heading in sorted(chosen)]


def set_layout(user: Any, columns: list[tuple[str, str]], row_version: Any) -> BankLayout:
    """Save the district's layout (audited as a row: before and after)."""
    if not can_set_bank_layout(user):
        raise deny()
    row = current()
    if row is None:
        check_version(BankLayout(row_version=0), row_version, _layout_conflict)
        row = BankLayout()
        db.session.add(row)
    else:
        check_version(row, row_version, _layout_conflict)
    row.columns = [[f, h] for f, h in columns]
    row.updated_by_name = name_of(user)
    db.session.flush()
    return row


def _layout_conflict() -> ConflictError:
    return ConflictError(_l("The bank file layout changed after you opened it."))
