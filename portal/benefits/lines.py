"""A cycle's line rows: what earlier cycles cover (read in SQL), the settled lines with
their funding parts, and the rows written set-based by `operations.compute_cycle`.

Reads and pure row building only; the writing and the audit event stay in `operations`.
"""

from __future__ import annotations

import dataclasses
import decimal
import uuid
from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from portal.benefits import engine
from portal.benefits.digest import plain
from portal.benefits.models import Claim, LineKind, LineStatus, PaymentCycle, PaymentLine
from portal.benefits.settlement import Paid, Settled, minus
from portal.extensions import db

KEY_COLUMNS = (
    PaymentLine.standard_key,
    PaymentLine.household_id,
    PaymentLine.person_id,
    PaymentLine.period,
)


def _key(key_std: str, hid: Any, pid: Any, period: Any) -> tuple:
    return (key_std, str(hid), str(pid) if pid else "", period)


def covered(exclude_cycle: uuid.UUID) -> dict[tuple, Paid]:
    """What other cycles cover per line key: paid or in-flight amounts (failures apart),
    summed in SQL; funding parts are fetched later, only for keys that need them."""
    failed = PaymentLine.status == LineStatus.failed
    rows = db.session.execute(
        sa.select(
            *KEY_COLUMNS,
            sa.func.sum(sa.case((failed, 0), else_=PaymentLine.amount)),
            sa.func.max(sa.case((failed, PaymentLine.result_reason), else_=None)),
        )
        .where(PaymentLine.cycle_id != exclude_cycle, PaymentLine.kind != LineKind.claim)
        .group_by(*KEY_COLUMNS)
    ).all()
    out = {}
    for key_std, hid, pid, period, amount, why in rows:
        out[_key(key_std, hid, pid, period)] = Paid(
            decimal.Decimal(str(amount or 0)).quantize(engine.CENT), (), why or ""
        )
    return out


def with_funding(settled: list[Settled], exclude_cycle: uuid.UUID) -> list[Settled]:
    """Settled lines against earlier payments: funding = owed parts − already paid parts
    (one query for the keys concerned; a rise's arrears are all increase, for instance)."""
    need = {s.line.key for s in settled if s.kind != "regular"}
    if not need:
        return settled
    households = {uuid.UUID(k[1]) for k in need}
    paid: dict[tuple, list] = defaultdict(list)
    for key_std, hid, pid, period, funding in db.session.execute(
        sa.select(*KEY_COLUMNS, PaymentLine.funding).where(
            PaymentLine.cycle_id != exclude_cycle,
            PaymentLine.kind != LineKind.claim,
            PaymentLine.status != LineStatus.failed,
            PaymentLine.household_id.in_(households),
        )
    ):
        key = _key(key_std, hid, pid, period)
        if key in need:
            paid[key].extend((p, lvl, decimal.Decimal(str(a))) for p, lvl, a in funding or [])
    out = []
    for s in settled:
        if s.kind == "regular":
            out.append(s)
            continue
        parts = minus(s.line.funding, tuple(paid.get(s.line.key, ())))
        out.append(dataclasses.replace(s, funding=parts))
    return out


def _row(
    cycle: PaymentCycle,
    position: int,
    standard_key: str,
    in_kind: bool,
    reasons: list,
    funding: Any,
    **fields: Any,
) -> dict[str, Any]:
    """One stored line: the columns every kind shares, then the kind's own."""
    return {
        "tenant_id": cycle.tenant_id,
        "id": uuid.uuid4(),
        "cycle_id": cycle.id,
        "position": position,
        "standard_key": standard_key,
        "measure_number": standard_key.split("/", 1)[0],
        "in_kind": in_kind,
        "reasons": plain(reasons),
        "funding": plain([list(f) for f in funding]),
        "status": (LineStatus.counted if in_kind else LineStatus.pending).value,
        "result_reason": "",
        **fields,
    }


def line_row(
    cycle: PaymentCycle, position: int, s: Settled, towns: dict[str, str]
) -> dict[str, Any]:
    """A settled register line (regular, arrears with its cause first, recovery)."""
    line = s.line
    reasons = [list(r) for r in line.reasons]
    if s.kind != "regular":
        reasons.insert(0, ["cause", [s.cause]])
    return _row(
        cycle,
        position,
        line.standard_key,
        line.in_kind,
        reasons,
        s.funding,
        kind=s.kind,
        cause=s.cause,
        standard_name=line.standard_key.split("/", 1)[-1],
        household_id=uuid.UUID(line.household_id),
        person_id=uuid.UUID(line.person_id) if line.person_id else None,
        town_id=uuid.UUID(towns[line.household_id]) if line.household_id in towns else None,
        period=line.period,
        amount=s.amount,
        owed=line.amount,
        payee=line.payee or "person",
        claim_id=None,
    )


def claim_row(cycle: PaymentCycle, position: int, claim: Claim, std: Any) -> dict[str, Any]:
    """An accepted claim not yet paid, funded like its standard."""
    in_kind = bool(std and std.rule.get("in_kind"))
    payee = (std.rule.get("payee") if std else None) or (
        "person" if claim.person_id else "household"
    )
    funding = engine.funding(std, claim.amount, engine.first_rate(std)) if std else ()
    reasons = [["claim", [claim.start, claim.end, claim.quantity]], *claim.reason]
    return _row(
        cycle,
        position,
        claim.standard_key,
        in_kind,
        reasons,
        funding,
        kind=LineKind.claim.value,
        cause="",
        standard_name=claim.standard_name,
        household_id=claim.household_id,
        person_id=claim.person_id,
        town_id=claim.town_id,
        period=engine.month_start(claim.start),
        amount=claim.amount,
        owed=claim.amount,
        payee=payee,
        claim_id=claim.id,
    )


def hashable(row: dict) -> dict:
    """A line's content without its random id (the hash depends on content only)."""
    return {k: v for k, v in row.items() if k not in ("id", "tenant_id", "cycle_id", "claim_id")}
