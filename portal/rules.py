"""Business-rule errors and optimistic concurrency shared by the domain services.

A service raises a `RuleError` (or a subclass) when an action breaks a rule; views turn
it into a form error or a flash message, the API into `{"error": {...}}`, the CLI into
a message and exit code — one shape for every domain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from portal.extensions import db


class RuleError(ValueError):
    """A rule was broken; `field` names the input at fault (None: the whole action)."""

    code = "invalid"
    status = 400

    def __init__(self, message: Any, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


def check_version(row: Any, expected: int | str | None, conflict: Callable[[], RuleError]) -> None:
    """Optimistic concurrency: the form/API carries the row_version it was shown."""
    if expected is None or expected == "":
        return
    try:
        expected_int = int(expected)
    except (TypeError, ValueError):
        raise conflict() from None
    if row.row_version != expected_int:
        raise conflict()


def flush(conflict: Callable[[], RuleError]) -> None:
    """Flush, turning a concurrent update caught by the version column into a conflict."""
    try:
        db.session.flush()
    except StaleDataError as e:
        raise conflict() from e
