"""Care for each household: contact persons, family doctors, check-ups and visits (issue 17)."""

from portal.care import audit_actions  # noqa: F401, E402  (registers its audit vocabulary)
