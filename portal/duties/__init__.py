"""duties: registers its audit vocabulary on import (see portal/duties/audit_actions.py)."""

from portal.duties import audit_actions  # noqa: F401
