"""Duties (职责): each department's responsibilities per half-year, logged, signed off, reviewed.

Modules: `rules` (status matrix, errors, `can_*`), `generation`, `storage` (evidence
files), `operations` (writes), `queries` (reads), `receivers` (signals from policy and
the platform; connected on import, below).
"""

from portal.duties import receivers as _receivers  # noqa: F401  (connects the signal receivers)
