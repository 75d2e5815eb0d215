"""Reads of the register. Rows are already narrowed by the scoping hook; these only
filter, page and shape. Everything returned for display is masked."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import lazyload

from portal.extensions import db
from portal.kernel import labels
from portal.register import pii
from portal.register.models import (
    Area,
    AreaKind,
    Category,
    ChangeRequest,
    Household,
    HouseholdStatus,
    Person,
    RequestStatus,
)

AGE_BANDS = {  # of the woman (女方), the policies' thresholds
    "under49": (None, 49),
    "49to59": (49, 60),
    "60to69": (60, 70),
    "70plus": (70, None),
}


@dataclasses.dataclass
class Filters:
    town: str = ""
    village: str = ""
    category: str = ""
    status: str = ""
    age_band: str = ""
    q: str = ""
    idx: str = ""  # an ID number's blind index (the number itself never goes in a URL)

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        return cls(
            **{f.name: (args.get(f.name) or "").strip()[:64] for f in dataclasses.fields(cls)}
        )

    def with_search(self, text: str) -> Filters:
        """A typed search: an ID number becomes its blind index, anything else a name."""
        text = (text or "").strip()[:60]
        if looks_like_id(text):
            return dataclasses.replace(self, q="", idx=pii.blind_index(text, "id_number"))
        return dataclasses.replace(self, q=text, idx="")

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v}


def looks_like_id(text: str) -> bool:
    """Shaped like a resident ID number: 15 digits (first generation) or 17 digits and a
    check character (a longer number, e.g. a page number, is not one)."""
    digits = pii.normalise(text)
    return (len(digits) == 15 and digits.isdigit()) or (len(digits) == 18 and digits[:17].isdigit())


def id_in_args(args: Any) -> bool:
    """Does any query-string value hold something shaped like a resident ID number?
    (GET requests refuse it: the number would be written to access logs.)"""
    return any(
        looks_like_id(v) and _uuid(v) is None and not _BLIND_INDEX.fullmatch(v)
        for values in args.listvalues()
        for v in values
    )


_BLIND_INDEX = re.compile(r"[0-9a-f]{64}")


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _shift_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def household_select(f: Filters, on: dt.date) -> sa.Select:
    """The filtered households, ordered by number. Town and village are not joined in:
    callers load the district's areas once (`areas()`), after which `h.town` and
    `h.village` come from the session's identity map without a query. (Joining them made
    PostgreSQL misjudge the RLS-filtered row counts and nest-loop 9,000 × 228 rows.)"""
    stmt = sa.select(Household).options(lazyload(Household.town), lazyload(Household.village))
    if f.town and (town := _uuid(f.town)):
        stmt = stmt.where(Household.town_id == town)
    if f.village and (village := _uuid(f.village)):
        stmt = stmt.where(Household.village_id == village)
    if f.category in Category.__members__:
        stmt = stmt.where(Household.category == Category(f.category))
    if f.status in HouseholdStatus.__members__:
        stmt = stmt.where(Household.status == HouseholdStatus(f.status))
    if f.age_band in AGE_BANDS:
        low, high = AGE_BANDS[f.age_band]
        if low is not None:  # at least `low` years: born on or before on - low years
            stmt = stmt.where(Household.woman_birth_date <= _shift_years(on, low))
        if high is not None:
            stmt = stmt.where(Household.woman_birth_date > _shift_years(on, high))
    if f.idx and len(f.idx) == 64:
        stmt = stmt.where(
            Household.id.in_(sa.select(Person.household_id).where(Person.id_index == f.idx))
        )
    if f.q:
        if looks_like_id(f.q):
            # an exact resident ID number (API): through the blind index, under every key
            indexes = pii.blind_indexes(f.q, "id_number")
            stmt = stmt.where(
                Household.id.in_(sa.select(Person.household_id).where(Person.id_index.in_(indexes)))
            )
        else:
            name = f.q.replace("%", "").replace("_", "")
            stmt = stmt.where(
                sa.or_(
                    Household.head_name.like(f"{name}%"),
                    Household.number == f.q,
                    Household.id.in_(
                        sa.select(Person.household_id).where(Person.name.like(f"{name}%"))
                    ),
                )
            )
    return stmt.order_by(Household.number)


def areas() -> tuple[list[Area], dict[uuid.UUID, list[Area]]]:
    rows = db.session.execute(sa.select(Area).order_by(Area.sort_order, Area.name)).scalars().all()
    towns = [a for a in rows if a.kind == AreaKind.town]
    villages: dict[uuid.UUID, list[Area]] = {t.id: [] for t in towns}
    for a in rows:
        if a.kind == AreaKind.village and a.parent_id in villages:
            villages[a.parent_id].append(a)  # type: ignore[index]
    return towns, villages


def total_from_counts(f: Filters, counts: dict[tuple[str, str], int]) -> int | None:
    """The list's total read from the (category, status) counts the page reads anyway,
    when nothing but the category and the status is filtered (None: the list counts its
    rows itself). A category or status `household_select` ignores is ignored here too."""
    if any(v for k, v in dataclasses.asdict(f).items() if k not in ("category", "status")):
        return None
    category = f.category if f.category in Category.__members__ else ""
    status = f.status if f.status in HouseholdStatus.__members__ else ""
    return sum(
        n
        for (c, s), n in counts.items()
        if (not category or c == category) and (not status or s == status)
    )


@dataclasses.dataclass(frozen=True)
class AreaChoices:
    """The district's areas as plain text for a list page: the filter's options as
    (id, label) pairs and every area's name by id (for the rows' town and village)."""

    towns: list[tuple[str, str]]
    villages: list[tuple[str, str]]  # label "town · village", grouped by town
    names: dict[uuid.UUID, str]


def area_choices() -> AreaChoices:
    """One statement of four columns and no ORM objects: building a large district's
    ~230 areas as objects, and reading their attributes in the template, cost more than
    the list's own queries."""
    rows = db.session.execute(
        sa.select(Area.id, Area.kind, Area.name, Area.parent_id).order_by(
            Area.sort_order, Area.name
        )
    ).all()
    names = {r.id: r.name for r in rows}
    by_town: dict[uuid.UUID, list[tuple[str, str]]] = {
        r.id: [] for r in rows if r.kind == AreaKind.town
    }
    for r in rows:
        if r.kind == AreaKind.village and r.parent_id in by_town:
            by_town[r.parent_id].append((str(r.id), f"{names[r.parent_id]} · {r.name}"))
    return AreaChoices(
        towns=[(str(t), names[t]) for t in by_town],
        villages=[v for villages in by_town.values() for v in villages],
        names=names,
    )


def household_history(household: Household) -> list[ChangeRequest]:
    return list(
        db.session.execute(
            sa.select(ChangeRequest)
            .where(ChangeRequest.household_id == household.id)
            .order_by(ChangeRequest.proposed_at.desc())
        ).scalars()
    )


def requests(status: str = "pending", limit: int = 200) -> list[ChangeRequest]:
    return list(db.session.execute(request_select(status).limit(limit)).scalars())


def request_select(status: str = "pending") -> sa.Select:
    """The confirmation queue filtered by status (any other value: every request), newest
    first: the page and its Excel export read the same statement."""
    stmt = sa.select(ChangeRequest).order_by(
        ChangeRequest.proposed_at.desc(), ChangeRequest.id.desc()
    )
    if status in RequestStatus.__members__:
        stmt = stmt.where(ChangeRequest.status == RequestStatus(status))
    return stmt


def pending_batches() -> list[tuple[str, int]]:
    return [
        (b, n)
        for b, n in db.session.execute(
            sa.select(ChangeRequest.batch, sa.func.count())
            .where(ChangeRequest.status == RequestStatus.pending, ChangeRequest.batch != "")
            .group_by(ChangeRequest.batch)
        ).all()
    ]


def category_status_counts() -> dict[tuple[str, str], int]:
    """Households by (category, status): one statement the (tenant, category, status)
    index answers alone; the list's status numbers and, when only these two are
    filtered, its total come from it."""
    rows = db.session.execute(
        sa.select(Household.category, Household.status, sa.func.count()).group_by(
            Household.category, Household.status
        )
    ).all()
    return {(labels.code(c), labels.code(s)): n for c, s, n in rows}


def counts(by_category_status: dict[tuple[str, str], int] | None = None) -> dict[str, int]:
    """Households by status (the operator's and home page's numbers)."""
    if by_category_status is None:
        by_category_status = category_status_counts()
    out = {s.value: 0 for s in HouseholdStatus}
    for (_category, status), n in by_category_status.items():
        out[status] = out.get(status, 0) + n
    return out


def person_view(p: Person, on: dt.date) -> dict[str, Any]:
    """A member, masked (the default everywhere)."""
    return {
        "id": str(p.id),
        "name": p.name,
        "relationship": p.relationship_.value,
        "id_number": pii.mask_id(p.id_number),
        "phone": pii.mask_phone(p.phone),
        "birth_date": p.birth_date.isoformat(),
        "age": p.age(on),
        "gender": p.gender.value if hasattr(p.gender, "value") else p.gender,
        "alive": p.alive,
        "death_date": p.death_date.isoformat() if p.death_date else None,
        "disability_grade": p.disability_grade,
    }


def household_brief(h: Household) -> dict[str, Any]:
    """Who a household is, for the API's answers (the register's and the care domain's):
    id, number, head, town, village, category and the version a write must name."""
    return {
        "id": str(h.id),
        "number": h.number,
        "head_name": h.head_name,
        "town": h.town.name if h.town else "",
        "village": h.village.name if h.village else "",
        "category": h.category.value,
        "row_version": h.row_version,
    }


def household_view(h: Household, on: dt.date, members: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        **household_brief(h),
        "level": h.level,
        "status": h.status.value,
        "exit_reason": h.exit_reason.value if h.exit_reason else None,
        "exit_date": h.exit_date.isoformat() if h.exit_date else None,
        "registered_on": h.registered_on.isoformat(),
        "years_registered": h.years_registered(on),
        "woman_age": h.woman_age(on),
    }
    if members:
        out["address"] = h.address
        out["members"] = [person_view(p, on) for p in h.persons]
    return out
