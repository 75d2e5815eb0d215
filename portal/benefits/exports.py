"""Spreadsheets: the bank disbursement file (.xlsx) and its results, the funding totals.

The bank file is the one place a full account number leaves the system: only the finance
officer (`benefits.pay`) writes it, once per cycle, audited with its row count. Every
other view shows accounts masked. Cells are neutralised against spreadsheet formulas.
"""

from __future__ import annotations

import io
from typing import Any

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook, load_workbook

from portal.audit import trail
from portal.benefits import operations
from portal.benefits.models import CycleStatus, PaymentCycle
from portal.benefits.rules import BenefitsError, can_export, can_pay, check_step
from portal.extensions import db
from portal.kernel.rules import NotAllowed
from portal.register.excel import neutralise

#: The bank file's columns (heading, what): the results file is the same with the last two
#: filled in by the bank. `line_id` is how results are matched line by line.
BANK_COLUMNS: list[tuple[str, str]] = [
    ("明细编号", "line_id"),
    ("序号", "position"),
    ("户编号", "household"),
    ("收款人", "holder"),
    ("开户银行", "bank"),
    ("银行账号", "account"),
    ("金额", "amount"),
    ("扶助项目", "standard"),
    ("所属月份", "period"),
    ("发放结果", "result"),
    ("失败原因", "reason"),
]
PAID_WORDS = {"成功": True, "已发放": True, "paid": True, "失败": False, "failed": False}


def _households(ids: set[Any]) -> dict[Any, str]:
    import sqlalchemy as sa

    from portal.register.models import Household
    from portal.register.operations import district_wide

    if not ids:
        return {}
    with district_wide():
        rows = db.session.execute(
            sa.select(Household.id, Household.number).where(Household.id.in_(ids))
        ).all()
    return dict(rows)


def bank_file(user: Any, cycle: PaymentCycle) -> bytes:
    """The approved cycle's bank file; marks the cycle exported (lines without an account
    fail now, with the reason, and carry over to the next cycle)."""
    if not can_pay(user):
        raise NotAllowed(_l("You do not have permission to do this."))
    check_step(cycle, CycleStatus.exported)
    lines = operations.bank_lines(cycle)
    accounts = operations.accounts_for(lines)
    numbers = _households({line.household_id for line in lines})
    wb = Workbook()
    ws = wb.active
    ws.title = f"{cycle.period:%Y-%m}"
    ws.append([h for h, _k in BANK_COLUMNS])
    missing = []
    rows = 0
    for line in lines:
        account = accounts.get((line.household_id, line.person_id)) or accounts.get(
            (line.household_id, None)
        )
        if account is None:
            missing.append(line)
            continue
        rows += 1
        values = {
            "line_id": str(line.id),
            "position": line.position,
            "household": numbers.get(line.household_id, ""),
            "holder": account.holder,
            "bank": account.bank,
            "account": account.account,
            "amount": float(line.amount),
            "standard": line.standard_name,
            "period": f"{line.period:%Y-%m}",
            "result": "",
            "reason": "",
        }
        ws.append([neutralise(values[k]) for _h, k in BANK_COLUMNS])
    out = io.BytesIO()
    wb.save(out)
    operations.mark_exported(user, cycle, rows, missing)
    return out.getvalue()


def read_results(data: bytes) -> list[dict]:
    """The bank's copy back: one dict per row (`row`, `line_id`, `amount`, `paid`, `reason`)."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable upload
        raise BenefitsError(_l("The file is not an Excel workbook (.xlsx)."), "file") from None
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    head = [str(c or "").strip() for c in next(it, ())]
    where = {}
    for heading, key in BANK_COLUMNS:
        if heading not in head:
            raise BenefitsError(
                _l("The results file has no column %(name)s.", name=heading), "file"
            )
        where[key] = head.index(heading)
    out = []
    for n, row in enumerate(it, start=2):
        if not any(v not in (None, "") for v in row):
            continue
        cell = lambda key, row=row: row[where[key]] if where[key] < len(row) else None  # noqa: E731
        result = str(cell("result") or "").strip()
        out.append(
            {
                "row": n,
                "line_id": str(cell("line_id") or "").strip(),
                "amount": cell("amount"),
                "paid": PAID_WORDS.get(result),
                "reason": str(cell("reason") or "").strip(),
            }
        )
    return out


def funding_file(user: Any, cycle: PaymentCycle) -> bytes:
    """财政's export: the cycle's totals by government level and part, and by standard."""
    from portal.benefits import queries

    if not can_export(user):
        raise NotAllowed(_l("You do not have permission to do this."))
    wb = Workbook()
    ws = wb.active
    ws.title = "资金分担"
    ws.append(["部分", "承担层级", "金额（元）"])
    for (part, level), amount in sorted(queries.funding_totals(cycle).items()):
        ws.append([queries.PART_WORDS.get(part, part), level or "未载明", float(amount)])
    ws2 = wb.create_sheet("按扶助项目")
    ws2.append(["措施", "扶助项目", "类型", "笔数", "金额（元）"])
    for row in queries.totals_by_standard(cycle):
        ws2.append([neutralise(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    trail.record(
        db.session,
        "benefit_funding_exported",
        entity_type="PaymentCycle",
        entity_id=cycle.id,
        summary=f"{cycle}",
        data={"period": cycle.period, "lines_hash": cycle.lines_hash},
    )
    return out.getvalue()
