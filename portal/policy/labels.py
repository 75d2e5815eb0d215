"""Translated labels for the policy codes (the codes themselves are in schema.py)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

CATEGORY = {
    "economic_aid": _l("Economic aid"),
    "medical": _l("Medical care"),
    "elderly_care": _l("Elderly care"),
    "rebirth": _l("Re-birth support"),
    "housing": _l("Housing"),
    "legal_aid": _l("Legal aid"),
    "emotional_support": _l("Emotional support"),
    "funeral": _l("Funeral"),
    "education": _l("Education"),
    "employment": _l("Employment"),
    "contact_person": _l("Contact persons"),
    "publicity": _l("Publicity"),
    "insurance": _l("Insurance"),
    "social_care": _l("Social care"),
    "rehabilitation": _l("Rehabilitation"),
    "organisation": _l("Organisation"),
    "other": _l("Other"),
}

UNIT = {
    "yuan_per_person_month": _l("yuan per person per month"),
    "yuan_per_person_year": _l("yuan per person per year"),
    "yuan_per_person_day": _l("yuan per person per day"),
    "yuan_per_person_time": _l("yuan per person per time"),
    "yuan_per_person": _l("yuan per person (once)"),
    "yuan_per_household_month": _l("yuan per household per month"),
    "yuan_per_household_year": _l("yuan per household per year"),
    "yuan_per_household_time": _l("yuan per household per time"),
    "yuan_per_household": _l("yuan per household (once)"),
    "yuan_per_couple": _l("yuan per couple"),
    "yuan_per_hour": _l("yuan per hour"),
    "yuan_per_time": _l("yuan per time"),
    "yuan_per_month": _l("yuan per month"),
    "yuan_per_year": _l("yuan per year"),
}

FREQUENCY = {
    "one_off": _l("one-off"),
    "monthly": _l("monthly"),
    "quarterly": _l("quarterly"),
    "yearly": _l("yearly"),
    "daily": _l("daily"),
    "per_event": _l("per event"),
    "festival": _l("on festivals"),
}

FESTIVAL = {
    "spring_festival": _l("Spring Festival"),
    "mid_autumn": _l("Mid-Autumn Festival"),
    "double_ninth": _l("Double Ninth Festival"),
    "mothers_day": _l("Mother's Day"),
    "other": _l("other festival"),
}

FAMILY_TYPE = {
    "bereaved": _l("only child died"),
    "disabled_child": _l("only child disabled"),
    "surgery_complication": _l("surgery complication"),
}

RESIDENCE = {
    "urban": _l("urban residents"),
    "rural": _l("rural residents"),
    "local": _l("local household registration"),
}

MAX_QUANTITY_UNIT = {
    "days_per_year": _l("days per year"),
    "times_per_year": _l("times per year"),
    "hours_per_month": _l("hours per month"),
    "times": _l("times"),
}

CADENCE = {
    "semiannual": _l("every half-year"),
    "quarterly": _l("every quarter"),
    "yearly": _l("every year"),
    "ad_hoc": _l("as needed"),
}


def label(table: dict[str, Any], code: Any) -> Any:
    return table.get(code, code)


def category_choices() -> list[tuple[str, Any]]:
    return list(CATEGORY.items())


def eligibility_lines(e: dict) -> list[str]:
    """The eligibility conditions as short readable phrases."""
    from flask_babel import gettext as _

    out: list[str] = []
    if e.get("family_types"):
        out.append("、".join(str(label(FAMILY_TYPE, f)) for f in e["family_types"]))
    if e.get("mother_min_age") is not None:
        out.append(_("mother aged %(age)s or over", age=e["mother_min_age"]))
    lo, hi = e.get("member_min_age"), e.get("member_max_age")
    if lo is not None and hi is not None:
        out.append(_("member aged %(lo)s–%(hi)s", lo=lo, hi=hi))
    elif lo is not None:
        out.append(_("member aged %(age)s or over", age=lo))
    elif hi is not None:
        out.append(_("member aged at most %(age)s", age=hi))
    if e.get("residence"):
        out.append(str(label(RESIDENCE, e["residence"])))
    if e.get("disability_grade_max") is not None:
        out.append(_("disability grade %(grade)s or worse", grade=e["disability_grade_max"]))
    out += [str(c) for c in e.get("conditions") or []]
    return out
