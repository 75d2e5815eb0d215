"""The back office's audit vocabulary (registrations only; read by `portal.audit`)."""

from __future__ import annotations

# The back office records `export` (audit's) and `role_changed` (accounts'): nothing of its own.
