"""Messages (站内消息) and notices (通知公告): what the portal tells its users.

Messages are created by receivers of `portal.kernel.events` (a duty returned or accepted,
an action item assigned, a meeting invitation), connected when this package loads.
"""

from portal.messages import (
    audit_actions,  # noqa: F401 - registers its audit vocabulary
    receivers,  # noqa: F401 - connects the event receivers
)
