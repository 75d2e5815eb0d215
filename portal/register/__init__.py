"""The families register (issue 16): areas, households, persons, change requests, PII."""

from portal.register import audit_actions  # noqa: F401  (registers its audit vocabulary)
