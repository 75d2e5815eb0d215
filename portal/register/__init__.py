"""The families register (issue 16): areas, households, persons, change requests, PII."""
