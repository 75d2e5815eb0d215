"""Audit trail: capture (trail), chains (verify, checkpoint), the viewer and its vocabulary."""

from portal.audit import audit_actions  # noqa: F401 - registers the shared vocabulary
