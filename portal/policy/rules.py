"""The policy's rules, written once (docs/policy-format.md says the same in words).

- Which versions create duties: a final (正式) or trial (试行) version does; a draft
  for comment (征求意见稿) creates none until the district lead adopts it (an audited
  action: `services.adopt_draft`). Only a `measure` clause can create duties;
  interpretation, effective-date and repeal clauses never do.
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


def measure_creates_duties(measure: Any) -> bool:
    """A numbered item creates duties only when it is a measure and not switched off."""
    return (measure.clause or "measure") == "measure" and bool(measure.creates_duty)


def meeting_interval_months(arrangement: Any) -> int | None:
    """Months between regular meetings, or None: then no meeting is ever due or overdue."""
    if arrangement is None:
        return None
    return CADENCE_MONTHS.get(arrangement.cadence or "")
