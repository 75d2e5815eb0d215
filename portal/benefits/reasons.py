"""A line's reasons in words: the structured `(code, params)` the engine and the claim
rules produce, put into the current language ("女方 2022-05-14 年满49周岁；…").

Stored structured, so the hash of a cycle does not depend on the language and a line
reads in Chinese or English from the same data.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.policy import entitlement, schema
from portal.policy.labels import label
from portal.register.audit_actions import RELATIONSHIP_LABELS

RELATIONSHIPS = RELATIONSHIP_LABELS  # the register's words for a member

KIND_LABELS = {
    "regular": _l("Regular"),
    "arrears": _l("Arrears"),
    "recovery": _l("Recovery"),
    "claim": _l("Claim"),
}

STATUS_LABELS = {
    "pending": _l("Pending"),
    "paid": _l("Paid"),
    "failed": _l("Failed"),
    "counted": _l("Service provided (not paid)"),
}

CYCLE_LABELS = {
    "draft": _l("Draft"),
    "computed": _l("Computed"),
    "reviewed": _l("Reviewed (eligibility)"),
    "approved": _l("Approved (finance)"),
    "exported": _l("Bank file exported"),
    "closed": _l("Closed"),
}

PAYEE_LABELS = {
    "person": _l("The person"),
    "household": _l("The household"),
    "institution": _l("An institution"),
}

CAUSES = {
    "rate": _l("Arrears: the rate for this month was raised after it was paid"),
    "late": _l("Arrears: eligibility for this month was confirmed after its cycle"),
    "carried": _l("Carried over: the bank payment for this month failed"),
    "overpaid": _l(
        "Recovery: more was paid for this month than is owed (death or exit entered late)"
    ),
    "not_owed": _l("Recovery: nothing is owed for this month any more"),
}


def money(value: Any) -> str:
    """1430.00 → 1430, 1180.50 → 1180.50 (amounts as the documents write them)."""
    text = str(value)
    return text[:-3] if text.endswith(".00") else text


def words(reason: Any) -> str:
    """One structured reason in the current language."""
    code, params = reason[0], list(reason[1]) if len(reason) > 1 else []
    if code == "category":
        category, number = params
        return _(
            "Household %(number)s: %(category)s, on the register",
            number=number,
            category=label(schema.FAMILY_TYPES, category),
        )
    if code == "woman_age":
        day, years = params
        return _("The woman turned %(years)s on %(date)s", years=years, date=day)
    if code == "person_age":
        who, age, day = params
        return _(
            "%(who)s aged %(age)s on %(date)s",
            who=RELATIONSHIPS.get(who, who),
            age=age,
            date=day,
        )
    if code == "grade":
        return _("Disability grade %(grade)s", grade=params[0] or "—")
    if code == "standard":
        number, name, amount, unit, since, until, source = params
        rate = f"{money(amount)} {label(schema.UNITS, unit)}"
        if since:
            return _(
                "Measure %(number)s %(name)s: %(rate)s from %(since)s (%(source)s)",
                number=number,
                name=name,
                rate=rate,
                since=since,
                source=source,
            )
        return _(
            "Measure %(number)s %(name)s: %(rate)s before %(until)s, start not stated (%(source)s)",
            number=number,
            name=name,
            rate=rate,
            until=until,
            source=source,
        )
    if code == "reference":
        return _("By reference to %(name)s, plus %(top_up)s yuan", name=params[0], top_up=params[1])
    if code == "partial":
        rule, inferred = params
        text = _("Partial month: %(rule)s", rule=label(entitlement.PARTIAL_PERIODS, rule))
        return text + (_(" (inferred)") if inferred else "")
    if code == "prorated":
        return _("%(n)s of %(total)s days", n=params[0], total=params[1])
    if code == "cause":
        return str(CAUSES.get(params[0], params[0]))
    if code == "bank_failed":
        return _("The bank returned the payment: %(reason)s", reason=params[0])
    if code == "once":
        return _("Refused: once in a lifetime, already granted")
    if code == "cap_year":
        unit, cap, year, nth = params
        return _(
            "Refused from number %(nth)s of %(year)s: at most %(cap)s %(unit)s",
            nth=nth,
            year=year,
            cap=cap,
            unit=label(schema.MAX_QUANTITY_UNITS, unit),
        )
    if code == "cap_total":
        unit, cap, nth = params
        return _(
            "Refused from number %(nth)s: at most %(cap)s %(unit)s",
            nth=nth,
            cap=cap,
            unit=label(schema.MAX_QUANTITY_UNITS, unit),
        )
    if code == "overlap":
        return _(
            "Refused: %(start)s – %(end)s overlaps days already claimed",
            start=params[0],
            end=params[1],
        )
    if code == "not_eligible":
        return _("Refused: not eligible on %(date)s", date=params[0])
    if code == "claim":
        return _(
            "Claim %(start)s – %(end)s: %(n)s accepted", start=params[0], end=params[1], n=params[2]
        )
    return str(code)


def sentence(reasons: Any) -> str:
    """All of a line's reasons, joined the documents' way (；)."""
    return _("; ").join(words(r) for r in reasons or [])
