"""Moved: the grant table, `can`, `require` and `requires` live in `portal.kernel.grants`.

Kept for one release so code written against the old path keeps importing; new code
imports `portal.kernel.grants` (the import-linter contract keeps lower layers off auth).
"""

from portal.kernel.grants import AUDITOR, GRANTS, LEAD, OFFICER, OPERATOR, can, requires

__all__ = ["AUDITOR", "GRANTS", "LEAD", "OFFICER", "OPERATOR", "can", "requires"]
