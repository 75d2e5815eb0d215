"""Writes of per-event claims (申领): hospital-nursing days, one-off grants. The cap, the
once-in-a-lifetime rule and eligibility on the first day decide what is accepted; the rest
is refused with its reason (`rules.cap_claim`, the same in the UI, CLI, demo and property
tests). Accepted claims become `claim` lines in the next computed cycle. No commit.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.benefits import engine
from portal.benefits.digest import plain
from portal.benefits.facts import policy_standards, register_facts
from portal.benefits.models import Claim, ClaimStatus
from portal.benefits.operations import deny, name_of, uid
from portal.benefits.rules import BenefitsError, NotFound, can_claim, cap_claim, split_years
from portal.extensions import db
from portal.kernel.clock import today
from portal.register.operations import district_wide
from portal.tenancy import scope

ZERO = decimal.Decimal("0")


def claimable_standards() -> list[engine.Standard]:
    _version, standards = policy_standards(engine.month_start(today()))
    return [s for s in standards if s.rule.get("basis") == "claim"]


def enter_claim(
    user: Any,
    *,
    household_id: Any,
    person_id: Any,
    standard_key: str,
    start: dt.date,
    end: dt.date | None = None,
    evidence_note: str = "",
) -> list[Claim]:
    """申领: a per-event benefit with its dates and evidence; the cap, once-in-a-lifetime
    and eligibility decide what is accepted, the rest is refused with the reason. A claim
    across New Year is kept as one claim per year (caps count per year)."""
    from portal.register.models import Household

    if not can_claim(user):
        raise deny()
    household = scope.get_scoped(Household, uid(household_id))
    if household is None:
        raise NotFound(_l("The household was not found."))
    std = next((s for s in claimable_standards() if s.key == standard_key), None)
    if std is None:
        raise BenefitsError(_l("Choose a benefit that is claimed per event."), "standard_key")
    end = end or start
    if end < start:
        raise BenefitsError(_l("The end date is before the start date."), "end")
    if std.frequency != "daily":
        end = start
    with district_wide():
        facts = next(iter(register_facts_for(household.id)), None)
    pid = uid(person_id)
    person = None
    if "person" in std.unit:
        person = next((p for p in facts.persons if p.id == str(pid)), None) if facts else None
        if person is None:
            raise BenefitsError(_l("Choose a member of the household."), "person_id")
    else:
        pid = None
    if not evidence_note.strip():
        raise BenefitsError(
            _l("Describe the evidence (e.g. the hospital's discharge note)."), "evidence_note"
        )
    out = []
    pieces = split_years(start, end)
    for a, b in pieces:
        out.append(_one_claim(user, household, facts, std, pid, person, a, b, evidence_note))
    db.session.flush()
    return out


def register_facts_for(household_id: uuid.UUID) -> list[engine.HouseholdFacts]:
    return register_facts(household_id=household_id)


def _one_claim(
    user: Any,
    household: Any,
    facts: Any,
    std: engine.Standard,
    pid: uuid.UUID | None,
    person: Any,
    start: dt.date,
    end: dt.date,
    evidence: str,
) -> Claim:
    asked = (end - start).days + 1 if std.frequency == "daily" else 1
    claim = Claim(
        standard_key=std.key,
        standard_name=std.name,
        household_id=household.id,
        person_id=pid,
        town_id=household.town_id,
        start=start,
        end=end,
        asked=asked,
        evidence_note=evidence.strip()[:2000],
        entered_by_name=name_of(user),
    )
    if facts is None or not engine.eligible(std, facts, person, start):
        return _refused(claim, [["not_eligible", [start.isoformat()]]])
    prior = db.session.execute(
        sa.select(Claim.start, Claim.end, Claim.quantity).where(
            Claim.standard_key == std.key,
            Claim.household_id == household.id,
            Claim.person_id.is_(None) if pid is None else Claim.person_id == pid,
            Claim.status == ClaimStatus.accepted,
        )
    ).all()
    if std.frequency == "daily" and any(s <= end and start <= e for s, e, _q in prior):
        return _refused(claim, [["overlap", [start.isoformat(), end.isoformat()]]])
    used_year: dict[int, int] = defaultdict(int)
    for s, _e, q in prior:
        used_year[s.year] += q
    result = cap_claim(std, start, end, dict(used_year), sum(q for _s, _e, q in prior))
    if result.accepted == 0:
        return _refused(claim, [list(result.reason)] if result.reason else [])
    rate = engine.rate_on(std, start)
    if rate is None:
        return _refused(claim, [["not_eligible", [start.isoformat()]]])
    claim.quantity = result.accepted
    claim.amount = (rate.amount * result.accepted).quantize(engine.CENT)
    claim.status = ClaimStatus.accepted
    claim.reason = plain([list(result.reason)] if result.reason else [])
    db.session.add(claim)
    return claim


def _refused(claim: Claim, reason: list) -> Claim:
    claim.status = ClaimStatus.refused
    claim.quantity = 0
    claim.amount = ZERO
    claim.reason = plain(reason)
    db.session.add(claim)
    return claim
