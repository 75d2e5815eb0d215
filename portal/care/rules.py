"""The care rules read from the district's policy (`care:` section): which households a
festival visit is due for, who is due a check-up, when doctor contact is overdue, and
whether a household's contact persons make up the composition the policy asks for.

Pure functions of the policy and dates; the SQL that applies them to many households at
once is in `queries.py` (set-based), the per-household answers here for the pages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.care import festivals
from portal.kernel import clock
from portal.kernel.rules import NotFound, RuleError


class CareError(RuleError):
    """A care rule was broken (a bad date, a visit kind the form does not know …)."""


__all__ = ["CareError", "CarePolicy", "FestivalRule", "NotFound", "current_policy", "quarter_of"]


@dataclass(frozen=True)
class FestivalRule:
    festival: str
    family_types: tuple[str, ...] = ()  # empty: every household
    member_min_age: int | None = None  # a living principal or spouse at least this old
    amount: Any = None

    def date(self, year: int) -> dt.date:
        return festivals.festival_date(self.festival, year)

    def applies(self, category: str, oldest_age: int | None) -> bool:
        """Is a visit due for a household of `category` whose oldest living principal or
        spouse is `oldest_age` on the festival's day?"""
        if self.family_types and category not in self.family_types:
            return False
        if self.member_min_age is not None:
            return oldest_age is not None and oldest_age >= self.member_min_age
        return True


@dataclass(frozen=True)
class CheckupRule:
    cadence: str  # yearly / once
    member_min_age: int | None = None
    member_max_age: int | None = None
    holders_only: bool = False  # principal and spouse (the 扶助证 holders) only


@dataclass(frozen=True)
class CarePolicy:
    """The `care:` section of the district's current policy version, as values."""

    contacts_min: int = 0
    contacts_max: int | None = None
    roles: tuple[str, ...] = ()
    required_roles: tuple[str, ...] = ()
    festival_rules: tuple[FestivalRule, ...] = ()
    doctor_cadence: str | None = None
    checkups: tuple[CheckupRule, ...] = ()
    note: str = ""
    raw: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_section(cls, care: dict | None) -> CarePolicy:
        care = care or {}
        contacts = care.get("contacts") or {}
        return cls(
            contacts_min=int(contacts.get("min") or 0),
            contacts_max=contacts.get("max"),
            roles=tuple(contacts.get("roles") or ()),
            required_roles=tuple(contacts.get("required_roles") or ()),
            festival_rules=tuple(
                FestivalRule(
                    festival=v["festival"],
                    family_types=tuple(v.get("family_types") or ()),
                    member_min_age=v.get("member_min_age"),
                    amount=v.get("amount"),
                )
                for v in care.get("festival_visits") or ()
            ),
            doctor_cadence=(care.get("doctor_contact") or {}).get("cadence"),
            checkups=tuple(
                CheckupRule(
                    cadence=c["cadence"],
                    member_min_age=c.get("member_min_age"),
                    member_max_age=c.get("member_max_age"),
                    holders_only=bool(c.get("holders_only")),
                )
                for c in care.get("checkups") or ()
            ),
            note=care.get("note") or "",
            raw=care,
        )

    def composition_ok(self, roles: list[str]) -> bool:
        """Do the household's active contacts (their role codes) make up the composition?"""
        if len(roles) < self.contacts_min:
            return False
        return all(r in roles for r in self.required_roles)

    def festivals_in(self, year: int) -> list[tuple[FestivalRule, dt.date]]:
        """Each festival rule with its date in `year`, in date order."""
        return sorted(((r, r.date(year)) for r in self.festival_rules), key=lambda x: x[1])


def current_policy(day: dt.date | None = None) -> CarePolicy:
    """The care rules of the district in scope (its in-force version, else its latest)."""
    import sqlalchemy as sa

    from portal.extensions import db
    from portal.policy.models import PolicyVersion
    from portal.policy.services import current_version

    # the versions read once (in `current_version`'s order) for both answers: a care
    # write asks on every figure-changing visit, and a district whose version is not in
    # force read them twice
    versions = list(
        db.session.execute(
            sa.select(PolicyVersion).order_by(
                PolicyVersion.effective_from, PolicyVersion.created_at, PolicyVersion.id
            )
        ).scalars()
    )
    version = current_version(day, versions) or (versions[-1] if versions else None)
    return CarePolicy.from_section(getattr(version, "care", None) if version else None)


def quarter_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the calendar quarter holding `day`."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = dt.date(day.year, first_month, 1)
    end = (
        dt.date(day.year + 1, 1, 1) if first_month == 10 else dt.date(day.year, first_month + 3, 1)
    ) - dt.timedelta(days=1)
    return start, end


def last_ended_quarter(day: dt.date) -> tuple[dt.date, dt.date]:
    """The quarter that ended before `day`'s quarter began: its doctor contact is overdue
    from the first day of `day`'s quarter when none was made."""
    start, _ = quarter_of(day)
    return quarter_of(start - dt.timedelta(days=1))


def years_before(day: dt.date, years: int) -> dt.date:
    """The birth date of someone turning `years` on `day` (29 Feb → 28 Feb)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def can_use(user: Any, grant: str) -> bool:
    """The grant, and among department officers only the eligibility department (卫健):
    other departments' officers see no household's care (minimum necessary)."""
    from portal.kernel.grants import can
    from portal.register.rules import is_eligibility_officer

    if not can(user, grant):
        return False
    return getattr(user, "department_id", None) is None or is_eligibility_officer(user)


def today() -> dt.date:
    return clock.today()


def check_visit_date(day: dt.date | None) -> dt.date:
    if day is None:
        raise CareError(_l("Enter the date of the visit."), field="visited_on")
    if day > today():
        raise CareError(_l("A visit cannot be in the future."), field="visited_on")
    return day


def age(born: dt.date, on: dt.date) -> int:
    """Whole years (周岁)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def token(*parts: object) -> str:
    """One key of a care status text column: "|code:2026|" (the figures search for it)."""
    return "|" + ":".join(str(p) for p in parts) + "|"


def quarter_key(day: dt.date) -> int:
    """A quarter as year·10 + quarter (2026-07-15 → 20263), as `doctor_quarters` holds it."""
    return day.year * 10 + (day.month + 2) // 3
