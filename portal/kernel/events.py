"""Events in people's work that others should hear about (站内消息 and the like).

Sent by the domain where the thing happens (duties, meetings) inside its unit of work;
the messages domain (and anything else above the kernel) connects receivers. The
sender never knows who listens, so no domain imports the messages domain.
"""

from __future__ import annotations

from blinker import Namespace

_events = Namespace()

duty_reviewed = _events.signal(
    "duty-reviewed",
    doc="""The lead accepted or returned a submitted duty.

    sender: the Duty; kwargs: `accepted` (bool), `actor`, `note` (the reason, may be "").
    """,
)

action_item_assigned = _events.signal(
    "action-item-assigned",
    doc="""Action items (督办事项) were assigned to departments.

    sender: the Decision; kwargs: `items` (the new ActionItems), `actor`.
    """,
)

meeting_invited = _events.signal(
    "meeting-invited",
    doc="""Departments were invited to a joint meeting.

    sender: the Meeting; kwargs: `department_ids` (list of UUIDs), `actor`.
    """,
)

duties_due = _events.signal(
    "duties-due",
    doc="""The daily reminder found duties due soon or overdue (not signed off).

    sender: None; kwargs: `duties` (list of Duty), `overdue` (bool: past the due date;
    False: due within 7 days), `on` (the day judged). Receivers tell each duty's
    department once per recipient, however often the job runs.
    """,
)

report_requested = _events.signal(
    "report-requested",
    doc="""A meeting asks departments for their report.

    sender: the Meeting; kwargs: `department_ids`, `actor` (None for the daily job),
    `once` (True: the daily job's reminder, sent once per recipient and meeting;
    False: a person's request, e.g. a report returned for correction, always sent).
    """,
)
