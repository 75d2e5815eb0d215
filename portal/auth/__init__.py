"""auth: registers its audit vocabulary on import (see portal/auth/audit_actions.py)."""

from portal.auth import audit_actions  # noqa: F401
