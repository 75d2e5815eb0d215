"""Labels for the policy codes, in the reader's language.

The codes and their Chinese and English names live in ONE place, `portal.policy.codes`
(the validator's tables, which docs/policy-format.md documents); this module only picks
the name for the current locale.
"""

from __future__ import annotations

from typing import Any

# The templates read the tables under these names (labels.UNIT …): re-exported, not used here.
# ruff: noqa: F401
from portal.policy.codes import CADENCES as CADENCE
from portal.policy.codes import CATEGORIES as CATEGORY
from portal.policy.codes import CLAUSES as CLAUSE
from portal.policy.codes import DEPARTMENT_KIND_LABELS as DEPARTMENT_KIND
from portal.policy.codes import FAMILY_TYPES as FAMILY_TYPE
from portal.policy.codes import FESTIVALS as FESTIVAL
from portal.policy.codes import FREQUENCIES as FREQUENCY
from portal.policy.codes import MAX_QUANTITY_UNITS as MAX_QUANTITY_UNIT
from portal.policy.codes import RESIDENCES as RESIDENCE
from portal.policy.codes import SPLIT_APPLIES_TO
from portal.policy.codes import STATUSES as STATUS
from portal.policy.codes import UNITS as UNIT


def _english() -> bool:
    try:
        from flask_babel import get_locale

        locale = get_locale()
    except Exception:  # outside a request: Chinese first
        return False
    return locale is not None and str(locale).startswith("en")


def label(table: dict[str, tuple[str, str]], code: Any) -> str:
    """The name of `code` in the current language; an unknown code is shown as it is."""
    names = table.get(code)
    if names is None:
        return str(code) if code is not None else ""
    return names[1] if _english() else names[0]


# A meeting arrangement whose document names no cadence (会议频次: 未规定).
NO_CADENCE = ("未规定", "not specified")


def cadence_label(code: Any) -> str:
    """The cadence as the policy vocabulary names it; no cadence is 未规定."""
    if not code or code == "unspecified":
        return NO_CADENCE[1] if _english() else NO_CADENCE[0]
    return label(CADENCE, code)


def choices(table: dict[str, tuple[str, str]]) -> list[tuple[str, str]]:
    return [(code, label(table, code)) for code in table]


def category_choices() -> list[tuple[str, str]]:
    return choices(CATEGORY)


def eligibility_lines(e: dict) -> list[str]:
    """The eligibility conditions as short readable phrases."""
    from flask_babel import gettext as _

    out: list[str] = []
    if e.get("family_types"):
        out.append("、".join(label(FAMILY_TYPE, f) for f in e["family_types"]))
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
        out.append(label(RESIDENCE, e["residence"]))
    if e.get("disability_grade_max") is not None:
        out.append(_("disability grade %(grade)s or worse", grade=e["disability_grade_max"]))
    out += [str(c) for c in e.get("conditions") or []]
    return out
