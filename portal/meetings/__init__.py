"""Joint meetings (联席会议)."""

from portal.meetings import audit_actions  # noqa: F401 - registers its audit vocabulary
