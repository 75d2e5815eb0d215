"""policy: registers its audit vocabulary on import (see portal/policy/audit_actions.py)."""

from portal.policy import audit_actions  # noqa: F401
