"""Writes on the register that every other write module stands on: the scope helpers,
areas, the shared field checks, and the explicit events of personal information (reveal,
export). Nothing here commits — the caller's unit of work does — and every row change is
captured by the audit trail's flush hook.

Proposals (enrol, change, exit, a whole import) are in `proposals`, the eligibility
officer's decisions in `decisions`: only confirmed data reaches `Household`/`Person`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.audit import trail
from portal.extensions import db
from portal.kernel.rules import clean_date
from portal.register import pii
from portal.register.models import Area, AreaKind, OfficerTown, Person
from portal.register.rules import RegisterError
from portal.tenancy import scope

# -- scope helpers ---------------------------------------------------------------------


@contextlib.contextmanager
def district_wide() -> Iterator[None]:
    """The whole district, whoever asks: only for checks that answer yes/no (duplicates,
    numbering), never to show rows."""
    current = scope.current()
    token = scope.set_scope(
        dataclasses.replace(current, user_id=None, role=None, department_id=None)
    )
    try:
        yield
    finally:
        scope.reset_scope(token)


def officer_town_id(user: Any) -> uuid.UUID | None:
    return db.session.execute(
        sa.select(OfficerTown.town_id).where(OfficerTown.user_id == user.id)
    ).scalar()


# -- areas -----------------------------------------------------------------------------


def add_area(name: str, kind: AreaKind, parent: Area | None = None) -> Area:
    name = (name or "").strip()
    if not name:
        raise RegisterError(_l("A name is required."), "name")
    if len(name) > 80:
        raise RegisterError(_l("The name is too long (80 characters at most)."), "name")
    if kind == AreaKind.village and (parent is None or parent.kind != AreaKind.town):
        raise RegisterError(_l("A village belongs to a town."), "parent")
    existing = db.session.execute(
        sa.select(Area).where(
            Area.kind == kind,
            Area.name == name,
            Area.parent_id == parent.id if parent else Area.parent_id.is_(None),
        )
    ).scalar()
    if existing is not None:
        return existing
    area = Area(kind=kind, name=name, parent_id=parent.id if parent else None)
    db.session.add(area)
    db.session.flush()
    return area


def import_areas(rows: list[tuple[str, str]]) -> tuple[int, int]:
    """Two columns, town and village; returns (towns, villages) added or found."""
    towns: dict[str, Area] = {}
    villages = 0
    for town_name, village_name in rows:
        town_name, village_name = (town_name or "").strip(), (village_name or "").strip()
        if not town_name:
            continue
        town = towns.get(town_name) or add_area(town_name, AreaKind.town)
        towns[town_name] = town
        if village_name:
            add_area(village_name, AreaKind.village, town)
            villages += 1
    return len(towns), villages


# -- field checks shared by proposals and decisions ------------------------------------


def village_in_town(village_id: Any, town_id: uuid.UUID | None) -> Area:
    village = scope.get_scoped(Area, village_id)
    if village is None or village.kind != AreaKind.village:
        raise RegisterError(_l("Choose a village of the district."), "village_id")
    if town_id is not None and village.parent_id != town_id:
        raise RegisterError(_l("The village is not in your town."), "village_id")
    return village


def parse_date(value: Any, field: str, required: bool = True) -> dt.date | None:
    return clean_date(value, field, required=required, error=RegisterError)


def parse_enum(cls: Any, value: Any, field: str) -> Any:
    try:
        return cls(value)
    except ValueError:
        raise RegisterError(_l("Choose one of the listed values."), field) from None


# -- personal information: reveal and full export --------------------------------------


def reveal(user: Any, person: Person, reason: str) -> dict[str, str]:
    """查看完整信息: the full numbers for this one view, with a reason, audited."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise RegisterError(_l("Give the reason for seeing the full information."), "reason")
    trail.record(
        db.session,
        "pii_reveal",
        entity_type="Person",
        entity_id=person.id,
        summary=f"{person.name}: {reason}"[:400],
        data={
            "reason": reason[:400],
            "household_id": person.household_id,
            "id_masked": pii.mask_id(person.id_number),
            "id_index": person.id_index,
        },
    )
    return {"id_number": person.id_number, "phone": person.phone or ""}


def record_export(kind: str, rows: int, filters: dict, reason: str | None = None) -> None:
    """Every export is an event; an unmasked one needs its reason (checked here)."""
    data: dict[str, Any] = {"format": kind, "rows": rows, "filters": filters, "masked": True}
    if reason is not None:
        reason = reason.strip()
        if len(reason) < 2:
            raise RegisterError(_l("Give the reason for the full export."), "reason")
        data.update(masked=False, reason=reason[:400])
    trail.record(
        db.session,
        "export",
        entity_type="Household",
        summary=f"register export ({kind}{'' if reason is None else ', full'}): {rows} rows",
        data=data,
    )
