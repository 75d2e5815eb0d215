"""Settlement (结算): what a cycle pays so that, for every line key, what earlier cycles
cover plus this cycle equals what is owed — regular lines, arrears (补发) and recoveries
(追回). Pure, like the engine: `portal.benefits.lines` reads what earlier cycles cover.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from dataclasses import dataclass

from portal.benefits.engine import ZERO, Line, month_start

Funding = tuple[tuple[str, str, decimal.Decimal], ...]


@dataclass(frozen=True)
class Paid:
    """What earlier cycles already cover for one line key (paid or still in flight)."""

    amount: decimal.Decimal
    funding: Funding = ()
    failed_reason: str = ""  # the bank's reason when a payment for the key came back failed


@dataclass(frozen=True)
class Settled:
    kind: str  # regular / arrears / recovery
    line: Line  # the owed line (amount = owed); a zero line when nothing is owed any more
    amount: decimal.Decimal  # what this cycle pays (negative: to recover)
    funding: Funding
    cause: str  # rate / late / carried / not_owed / overpaid / ""


def minus(a: Funding, b: Funding) -> Funding:
    """Funding parts of a − b, by (part, level), zero parts dropped."""
    acc: dict[tuple[str, str], decimal.Decimal] = {}
    for part, lvl, x in a:
        acc[(part, lvl)] = acc.get((part, lvl), ZERO) + x
    for part, lvl, x in b:
        acc[(part, lvl)] = acc.get((part, lvl), ZERO) - x
    return tuple((part, lvl, x) for (part, lvl), x in acc.items() if x)


def settle(owed: Sequence[Line], covered: dict[tuple, Paid], month: dt.date) -> list[Settled]:
    """What this cycle must pay so that, for every key, covered + paid now = owed.

    `regular`: the cycle's own month, first time. `arrears` (补发): more owed for a month
    than covered — a rate raised retroactively (`rate`), eligibility confirmed late
    (`late`), or a failed bank payment carried over (`carried`). `recovery` (追回): covered
    more than owed — a death or exit entered late (`overpaid`, `not_owed`).
    """
    month = month_start(month)
    out: list[Settled] = []
    owed_keys = set()
    clean: dict[int, Funding] = {}  # minus(parts, ()) per funding tuple the engine shares
    for line in owed:
        owed_keys.add(line.key)
        paid = covered.get(line.key)
        have = paid.amount if paid else ZERO
        diff = line.amount - have
        if diff == 0:
            continue
        if paid is None or not paid.funding:
            parts = clean.get(id(line.funding))  # `owed` keeps every line's parts alive
            if parts is None:
                parts = clean[id(line.funding)] = minus(line.funding, ())
        else:
            parts = minus(line.funding, paid.funding)
        if diff < 0:
            out.append(Settled("recovery", line, diff, parts, "overpaid"))
        elif line.period == month and have == 0 and not (paid and paid.failed_reason):
            out.append(Settled("regular", line, diff, parts, ""))
        else:
            cause = "carried" if paid and paid.failed_reason else ("rate" if have else "late")
            out.append(Settled("arrears", line, diff, parts, cause))
    gone = [(k, p) for k, p in covered.items() if k not in owed_keys and p.amount != 0]
    for key, paid in sorted(gone, key=lambda kv: _sort_key(kv[0])):
        standard_key, household_id, person_id, period = key
        ghost = Line(standard_key, household_id, person_id, period, ZERO, "", False, (), ())
        out.append(Settled("recovery", ghost, -paid.amount, minus((), paid.funding), "not_owed"))
    return out


def _sort_key(key: tuple) -> tuple:
    return (key[0], key[1], key[2], key[3].isoformat())
