"""Determinism (可复核): canonical forms and the sha256 of a cycle's inputs and lines, and
the cache of owed months per input digest. Same inputs → same digest → same lines.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from portal.benefits.engine import CENT, HouseholdFacts, Line, Standard, compute_month


def plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value.quantize(CENT))  # 1430 and 1430.00 are one amount
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _canon(value: Any) -> Any:
    """A canonical form for hashing: dataclasses as lists of their fields in order."""
    if isinstance(value, HouseholdFacts):
        return [
            value.id, value.number, value.town_id, value.category, str(value.registered_on),
            str(value.woman_birth_date), value.level, str(value.exited_on), value.exited,
            [
                [p.id, p.relationship, str(p.birth_date), p.gender, p.alive, str(p.death_date),
                 p.disability_grade]
                for p in value.persons
            ],
        ]  # fmt: skip
    if hasattr(value, "__dataclass_fields__"):
        return [_canon(getattr(value, f)) for f in value.__dataclass_fields__]
    if isinstance(value, list | tuple):
        return [_canon(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canon(v) for k, v in value.items()}
    if isinstance(value, decimal.Decimal):
        return str(value.quantize(CENT))
    if isinstance(value, dt.date | uuid.UUID):
        return str(value)
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value.quantize(CENT))
    return str(value)


def digest(
    households: Iterable[HouseholdFacts], standards: Iterable[Standard], lines: Iterable[Any] = ()
) -> str:
    """sha256 of the canonical JSON of the inputs and the lines (order-independent input).
    Lines may be dataclasses or plain dicts (stored rows)."""
    payload = [
        sorted((_canon(h) for h in households), key=lambda d: d[0]),
        sorted((_canon(s) for s in standards), key=lambda d: d[0]),
        [x if isinstance(x, dict) else _canon(x) for x in lines],
    ]
    text = json.dumps(
        payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_json_default
    )
    return hashlib.sha256(text.encode()).hexdigest()


class MonthCache:
    """Owed lines per month for one set of inputs (their digest): recomputing a cycle, or
    the next cycle with an unchanged register and policy, reuses the earlier months."""

    def __init__(self) -> None:
        self.key = ""
        self.months: dict[dt.date, list[Line]] = {}

    def owed(
        self,
        key: str,
        months_: Sequence[dt.date],
        households: Sequence[HouseholdFacts],
        standards: Sequence[Standard],
    ) -> list[Line]:
        if key != self.key:
            self.key, self.months = key, {}
        out: list[Line] = []
        for m in months_:
            if m not in self.months:
                self.months[m] = compute_month(m, households, standards)
            out.extend(self.months[m])
        return out


MONTHS = MonthCache()
