"""A cycle's line rows: what earlier cycles cover (read in SQL), the settled lines with
their funding parts, and the rows written set-based by `operations.compute_cycle`.

Reads and pure row building only; the writing and the audit event stay in `operations`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
import uuid
from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from portal.benefits import engine
from portal.benefits.digest import plain
from portal.benefits.facts import id_text
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
    summed in SQL; funding parts are fetched later, only for keys that need them. Ids are
    read as text (`facts.id_text`), the form the engine's keys have."""
    failed = PaymentLine.status == LineStatus.failed
    hid, as_id = id_text(PaymentLine.household_id)
    pid, _same = id_text(PaymentLine.person_id)
    rows = db.session.execute(
        sa.select(
            PaymentLine.standard_key,
            hid,
            pid,
            PaymentLine.period,
            sa.func.sum(sa.case((failed, 0), else_=PaymentLine.amount)),
            sa.func.max(sa.case((failed, PaymentLine.result_reason), else_=None)),
        )
        .where(PaymentLine.cycle_id != exclude_cycle, PaymentLine.kind != LineKind.claim)
        .group_by(*KEY_COLUMNS)
    ).all()
    cent = engine.CENT
    out = {}
    for key_std, h, p, period, amount, why in rows:
        if not isinstance(amount, decimal.Decimal):
            amount = decimal.Decimal(str(amount or 0))
        out[(key_std, as_id(h), as_id(p) if p else "", period)] = Paid(
            amount.quantize(cent), (), why or ""
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


#: The stored columns of a line, in the order of the set-based INSERT.
COLUMNS = tuple(c.name for c in PaymentLine.__table__.columns)
#: Rows per INSERT statement (one JSON parameter each on PostgreSQL).
BATCH = 5000


def _money(value: decimal.Decimal) -> str:
    return str(value.quantize(engine.CENT))


class RowMaker:
    """Makes a cycle's stored lines as plain JSON values (ids, dates and amounts as the
    strings `digest.plain` gives): the same dict is hashed (`hashable`), summed and sent to
    the database without another conversion. Funding parts shared by many lines (one
    standard, one rate) are put into plain form once."""

    def __init__(self, cycle: PaymentCycle) -> None:
        self.tenant_id = str(cycle.tenant_id)
        self.cycle_id = str(cycle.id)
        self._funding: dict[int, tuple[Any, list]] = {}  # id → (the parts, their plain form)

    def funding(self, parts: Any) -> list:
        got = self._funding.get(id(parts))
        if got is None or got[0] is not parts:
            got = self._funding[id(parts)] = (parts, [[p, lvl, _money(a)] for p, lvl, a in parts])
        return got[1]

    def row(
        self,
        position: int,
        standard_key: str,
        in_kind: bool,
        reasons: Any,
        funding: Any,
        **fields: Any,
    ) -> dict[str, Any]:
        """One stored line: the columns every kind shares, then the kind's own."""
        return {
            "tenant_id": self.tenant_id,
            "id": str(uuid.uuid4()),
            "cycle_id": self.cycle_id,
            "position": position,
            "standard_key": standard_key,
            "measure_number": standard_key.split("/", 1)[0],
            "in_kind": in_kind,
            "reasons": reasons,
            "funding": self.funding(funding),
            "status": (LineStatus.counted if in_kind else LineStatus.pending).value,
            "result_reason": "",
            **fields,
        }

    def line(self, position: int, s: Settled, towns: dict[str, str]) -> dict[str, Any]:
        """A settled register line (regular, arrears with its cause first, recovery). The
        engine's reasons are plain already (strings, numbers, tuples)."""
        line = s.line
        reasons: Any = line.reasons
        if s.kind != "regular":
            reasons = (("cause", (s.cause,)), *reasons)
        return self.row(
            position,
            line.standard_key,
            line.in_kind,
            reasons,
            s.funding,
            kind=s.kind,
            cause=s.cause,
            standard_name=line.standard_key.split("/", 1)[-1],
            household_id=line.household_id,
            person_id=line.person_id or None,
            town_id=towns.get(line.household_id),
            period=line.period.isoformat(),
            amount=_money(s.amount),
            owed=_money(line.amount),
            payee=line.payee or "person",
            claim_id=None,
        )

    def claim(self, position: int, claim: Claim, std: Any) -> dict[str, Any]:
        """An accepted claim not yet paid, funded like its standard."""
        in_kind = bool(std and std.rule.get("in_kind"))
        payee = (std.rule.get("payee") if std else None) or (
            "person" if claim.person_id else "household"
        )
        funding = engine.funding(std, claim.amount, engine.first_rate(std)) if std else ()
        reasons = [["claim", [claim.start, claim.end, claim.quantity]], *claim.reason]
        return self.row(
            position,
            claim.standard_key,
            in_kind,
            plain(reasons),
            funding,
            kind=LineKind.claim.value,
            cause="",
            standard_name=claim.standard_name,
            household_id=str(claim.household_id),
            person_id=str(claim.person_id) if claim.person_id else None,
            town_id=str(claim.town_id) if claim.town_id else None,
            period=engine.month_start(claim.start).isoformat(),
            amount=_money(claim.amount),
            owed=_money(claim.amount),
            payee=payee,
            claim_id=str(claim.id),
        )


def hashable(row: dict) -> dict:
    """A line's content without its random id (the hash depends on content only)."""
    return {k: v for k, v in row.items() if k not in ("id", "tenant_id", "cycle_id", "claim_id")}


_NAMES = ", ".join(COLUMNS)
_PG_INSERT = sa.text(
    f"INSERT INTO payment_lines ({_NAMES}) SELECT {_NAMES} "  # noqa: S608 - the model's columns
    "FROM json_populate_recordset(NULL::payment_lines, CAST(:rows AS json))"
)
_UUIDS = ("tenant_id", "id", "cycle_id", "household_id", "person_id", "town_id", "claim_id")


def insert_rows(rows: list[dict[str, Any]]) -> None:
    """Write the lines set-based, in batches of `BATCH`. PostgreSQL: one INSERT … SELECT
    FROM json_populate_recordset per batch, the rows as one JSON parameter (the server
    converts the types; RLS checks every row as for any INSERT). SQLite: the ORM's bulk
    INSERT (executemany) of the same rows in Python types."""
    if not rows:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        for i in range(0, len(rows), BATCH):
            db.session.execute(_PG_INSERT, {"rows": dumps(rows[i : i + BATCH])})
        return
    for i in range(0, len(rows), BATCH):
        db.session.execute(sa.insert(PaymentLine), [_typed(r) for r in rows[i : i + BATCH]])


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for k in _UUIDS:
        if out[k] is not None:
            out[k] = uuid.UUID(out[k])
    out["period"] = dt.date.fromisoformat(out["period"])
    out["amount"] = decimal.Decimal(out["amount"])
    out["owed"] = decimal.Decimal(out["owed"])
    return out
