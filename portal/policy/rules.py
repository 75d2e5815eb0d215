"""The policy's rules, written once (docs/policy-format.md says the same in words).

- Which versions create duties: a final (正式) or trial (试行) version does; a draft
  for comment (征求意见稿) creates none until the district lead adopts it (an audited
  action: `services.adopt_draft`). Only a `measure` clause can create duties;
  interpretation, effective-date and repeal clauses never do.
- After a version expires (`effective_until`), it creates no duties for the half-years
  that begin after that date, unless the district lead has decided (audited:
  `services.decide_after_expiry`) that the district keeps working to it until a new
  version is loaded. Every page that shows the version says it has expired.
- When a joint meeting is due: only a cadence with a fixed interval (every half-year,
  quarter, year) makes a meeting due or overdue. 根据工作需要 (`ad_hoc`), no cadence,
  or no arrangement at all never produce a due or overdue warning.
"""

from __future__ import annotations

from typing import Any

from portal.policy.codes import CADENCE_MONTHS


def generates_duties(version: Any) -> bool:
    """Whether `version` (a PolicyVersion) may create duties."""
    if version is None:
        return False
    status = str(getattr(version.status, "value", version.status))
    if status == "draft":
        return version.adopted_at is not None
    return True


CONTINUE, STOP = "continue", "stop"  # the lead's decisions on an expired version


def expired_before(version: Any, period: Any) -> bool:
    """The version ended before the half-year began."""
    return version.effective_until is not None and version.effective_until < period.start


def generates_duties_for(version: Any, period: Any) -> bool:
    """Whether `version` may create the duties of `period` (a kernel Period).

    It must create duties at all (`generates_duties`); a version that expired before
    the half-year began does so only by the lead's decision to keep working to it.
    """
    if not generates_duties(version) or version.effective_from > period.end:
        return False
    return not expired_before(version, period) or version.after_expiry == CONTINUE


def measure_creates_duties(measure: Any) -> bool:
    """A numbered item creates duties only when it is a measure and not switched off."""
    return (measure.clause or "measure") == "measure" and bool(measure.creates_duty)


def meeting_interval_months(arrangement: Any) -> int | None:
    """Months between regular meetings, or None: then no meeting is ever due or overdue."""
    if arrangement is None:
        return None
    return CADENCE_MONTHS.get(arrangement.cadence or "")
