"""Facts for engine tests: the seed districts' own standards, households built by hand."""

from __future__ import annotations

import datetime as dt
import functools

import yaml

from portal.benefits.engine import HouseholdFacts, PersonFacts, Standard
from portal.benefits.facts import standards_from_data
from tests.conftest import ROOT

D = dt.date


@functools.cache
def standards(stem: str) -> tuple[Standard, ...]:
    data = yaml.safe_load((ROOT / "tenants" / f"{stem}.yaml").read_text(encoding="utf-8"))
    return tuple(standards_from_data(data))


def standard(stem: str, name: str) -> Standard:
    return next(s for s in standards(stem) if s.name == name)


def couple(
    hid: str,
    category: str,
    woman_born: dt.date,
    man_born: dt.date | None = None,
    *,
    registered_on: dt.date = D(2010, 1, 1),
    level: str = "",
    child: PersonFacts | None = None,
    woman_death: dt.date | None = None,
    exited_on: dt.date | None = None,
) -> HouseholdFacts:
    persons = [
        PersonFacts(
            f"{hid}-w", "principal", woman_born, "female", woman_death is None, woman_death
        ),
        PersonFacts(f"{hid}-m", "spouse", man_born or woman_born, "male"),
    ]
    if child is not None:
        persons.append(child)
    return HouseholdFacts(
        id=hid,
        number=f"D{hid}",
        town_id="t1",
        category=category,
        registered_on=registered_on,
        woman_birth_date=woman_born,
        level=level,
        exited=exited_on is not None,
        exited_on=exited_on,
        persons=tuple(persons),
    )
