"""The bank: payees' accounts, the disbursement file (.xlsx) and the bank's results.

The bank file is the one place a full account number leaves the system: only the finance
officer (`benefits.pay`) writes it, once per cycle, audited with its row count. Every
other view shows accounts masked (stored encrypted with a blind index). Results are
matched line by line; nothing is written when one row is wrong. Cells are neutralised
against spreadsheet formulas. No commit (the caller's unit of work commits).
"""

from __future__ import annotations

import decimal
import io
import uuid
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook, load_workbook
from sqlalchemy.orm.attributes import flag_modified

from portal.benefits import bank_layout, engine
from portal.benefits.models import CycleStatus, LineStatus, PayeeAccount, PaymentCycle, PaymentLine
from portal.benefits.operations import deny, step_event, uid
from portal.benefits.rules import (
    BenefitsError,
    NotFound,
    can_claim,
    can_pay,
    check_step,
    cycle_conflict,
)
from portal.db import utcnow
from portal.extensions import db
from portal.kernel.grants import SYSTEM
from portal.kernel.rules import check_version
from portal.register import pii
from portal.register.excel import neutralise
from portal.register.operations import district_wide
from portal.tenancy import scope

PAID_WORDS = {"成功": True, "已发放": True, "paid": True, "失败": False, "failed": False}


def _households(ids: set[Any]) -> dict[Any, str]:
    from portal.register.models import Household

    if not ids:
        return {}
    with district_wide():
        rows = db.session.execute(
            sa.select(Household.id, Household.number).where(Household.id.in_(ids))
        ).all()
    return dict(rows)


def bank_file(user: Any, cycle: PaymentCycle, row_version: Any) -> bytes:
    """The approved cycle's bank file; marks the cycle exported (lines without an account
    fail now, with the reason, and carry over to the next cycle)."""
    if not can_pay(user):
        raise deny()
    check_step(cycle, CycleStatus.exported)
    check_version(cycle, row_version, cycle_conflict)
    lines = bank_lines(cycle)
    accounts = accounts_for(lines)
    numbers = _households({line.household_id for line in lines})
    wb = Workbook()
    ws = wb.active
    ws.title = f"{cycle.period:%Y-%m}"
    columns = bank_layout.layout()
    ws.append([neutralise(h) for _k, h in columns])
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
        ws.append([neutralise(values[k]) for k, _h in columns])
    out = io.BytesIO()
    wb.save(out)
    mark_exported(user, cycle, rows, missing)
    return out.getvalue()


def read_results(data: bytes, columns: list[tuple[str, str]] | None = None) -> list[dict]:
    """The bank's copy back in the district's layout (a required column under its generic
    heading is found too: a file exported before the layout changed): one dict per row
    (`row`, `line_id`, `amount`, `paid`, `reason`)."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable upload
        raise BenefitsError(_l("The file is not an Excel workbook (.xlsx)."), "file") from None
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    head = [str(c or "").strip() for c in next(it, ())]
    headings = dict(columns or bank_layout.layout())
    where = {}
    for key in ("line_id", "amount", "result", "reason"):
        heading = headings.get(key, bank_layout.FIELDS[key])
        found = heading if heading in head else bank_layout.FIELDS[key]
        if found not in head:
            raise BenefitsError(
                _l("The results file has no column %(name)s.", name=heading), "file"
            )
        where[key] = head.index(found)
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


def bank_lines(cycle: PaymentCycle) -> list[PaymentLine]:
    """Lines the bank pays: positive cash to a person or a household, not yet settled."""
    return list(
        db.session.execute(
            sa.select(PaymentLine)
            .where(
                PaymentLine.cycle_id == cycle.id,
                PaymentLine.amount > 0,
                PaymentLine.in_kind.is_(False),
                PaymentLine.payee.in_(("person", "household")),
            )
            .order_by(PaymentLine.position)
        )
        .scalars()
        .all()
    )


def accounts_for(lines: list[PaymentLine]) -> dict[tuple, PayeeAccount]:
    """Each line's account: the person's, else the household's own."""
    hids = {line.household_id for line in lines}
    if not hids:
        return {}
    rows = db.session.execute(
        sa.select(PayeeAccount).where(PayeeAccount.household_id.in_(hids))
    ).scalars()
    return {(a.household_id, a.person_id): a for a in rows}


def mark_exported(user: Any, cycle: PaymentCycle, rows: int, missing: list[PaymentLine]) -> None:
    """After the bank file is written: lines without an account fail now (and carry over)."""
    if not can_pay(user):
        raise deny()
    check_step(cycle, CycleStatus.exported)
    for line in missing:
        line.status = LineStatus.failed
        line.result_reason = "无收款账户"
    cycle.status = CycleStatus.exported
    cycle.exported_at = utcnow()
    cycle.row_version += 1
    step_event("benefit_bank_file_exported", cycle, rows=rows, without_account=len(missing))


def import_results(
    user: Any, cycle: PaymentCycle, results: list[dict], row_version: Any
) -> dict[str, int]:
    """The bank's results, matched line by line (`line_id`, `amount`, `paid`, `reason`):
    all rows are checked first; nothing is written when one is wrong. The cycle closes
    when every bank line has its result."""
    if not can_pay(user):
        raise deny()
    if cycle.status != CycleStatus.exported:
        raise BenefitsError(
            _l("Results can only be imported for a cycle whose bank file was exported.")
        )
    check_version(cycle, row_version, cycle_conflict)
    lines = {line.id: line for line in bank_lines(cycle)}
    errors: list[str] = []
    seen: set[uuid.UUID] = set()
    plan: list[tuple[PaymentLine, bool, str]] = []
    for r in results:
        row = r.get("row", "?")
        try:
            lid = uid(r.get("line_id"))
        except ValueError:
            lid = None
        line = lines.get(lid) if lid else None
        if line is None:
            errors.append(str(_l("Row %(row)s: no such line in this cycle.", row=row)))
            continue
        if lid in seen:
            errors.append(str(_l("Row %(row)s: the line appears twice.", row=row)))
            continue
        seen.add(lid)
        try:
            amount = decimal.Decimal(str(r.get("amount"))).quantize(engine.CENT)
        except (decimal.InvalidOperation, TypeError, ValueError):
            amount = None
        if amount != line.amount:
            errors.append(str(_l("Row %(row)s: the amount differs from the line's.", row=row)))
            continue
        paid = r.get("paid")
        if paid is None:
            errors.append(str(_l("Row %(row)s: the result must be 成功 or 失败.", row=row)))
            continue
        reason = (r.get("reason") or "").strip()[:200]
        if not paid and not reason:
            errors.append(
                str(_l("Row %(row)s: a failed payment needs the bank's reason.", row=row))
            )
            continue
        if line.status != LineStatus.pending:
            continue  # already settled (no account): nothing to do
        plan.append((line, bool(paid), reason))
    if errors:
        raise BenefitsError("; ".join(errors[:20]) + (" …" if len(errors) > 20 else ""), "file")
    counts = {"paid": 0, "failed": 0}
    for line, paid, reason in plan:
        line.status = LineStatus.paid if paid else LineStatus.failed
        line.result_reason = "" if paid else reason
        counts["paid" if paid else "failed"] += 1
    db.session.flush()
    still = [line for line in lines.values() if line.status == LineStatus.pending]
    if not still:
        cycle.status = CycleStatus.closed
        cycle.closed_at = utcnow()
        cycle.row_version += 1
    step_event("benefit_results_imported", cycle, **counts, pending=len(still))
    return {**counts, "pending": len(still)}


def set_account(
    user: Any, *, household_id: Any, person_id: Any, holder: str, bank: str, account: str
) -> PayeeAccount:
    """A payee's bank account: stored encrypted with a blind index; audited masked."""
    from portal.register.models import Household

    if user is not SYSTEM and not can_claim(user):
        raise deny()
    household = scope.get_scoped(Household, uid(household_id))
    if household is None:
        raise NotFound(_l("The household was not found."))
    number = "".join((account or "").split())
    if not (8 <= len(number) <= 30) or not number.isdigit():
        raise BenefitsError(_l("The bank account number must have 8 to 30 digits."), "account")
    pid = uid(person_id)
    row = db.session.execute(
        sa.select(PayeeAccount).where(
            PayeeAccount.household_id == household.id,
            PayeeAccount.person_id.is_(None) if pid is None else PayeeAccount.person_id == pid,
        )
    ).scalar()
    if row is None:
        row = PayeeAccount(household_id=household.id, person_id=pid)
        db.session.add(row)
    row.holder = (holder or "").strip()[:40]
    row.bank = (bank or "").strip()[:80]
    row.account = number
    row.account_index = pii.blind_index(number, "bank_account")
    db.session.flush()
    return row


def rekey_accounts() -> int:
    """`portal pii rotate-key` for this district's bank accounts: every number not under
    the current key is encrypted again and its blind index recomputed (one read of the
    raw values, then only the stale rows are loaded)."""
    raw = db.session.execute(
        sa.select(PayeeAccount.id, sa.type_coerce(PayeeAccount.account, sa.String))
    ).all()
    stale = [aid for aid, value in raw if pii.stale([value])]
    if not stale:
        return 0
    for row in db.session.execute(
        sa.select(PayeeAccount).where(PayeeAccount.id.in_(stale))
    ).scalars():
        flag_modified(row, "account")
        row.account_index = pii.blind_index(row.account, "bank_account")
    db.session.flush()
    return len(stale)
