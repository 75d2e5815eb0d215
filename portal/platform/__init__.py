"""platform: registers its audit vocabulary on import (see portal/platform/audit_actions.py)."""

from portal.platform import audit_actions  # noqa: F401
