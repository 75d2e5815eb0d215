"""Duties (职责): each department's responsibilities per half-year, logged, signed off, reviewed.

Modules: `rules` (status matrix, errors, `can_*`), `generation`, `storage` (evidence
files), `operations` (writes), `queries` (reads), `signals` (receivers of the signals from
policy and the platform; loaded by the `signals` domain hook).
"""

from portal.duties import audit_actions  # noqa: F401  (registers its audit vocabulary)
