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
