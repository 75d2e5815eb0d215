"""Business-rule errors and optimistic concurrency: one shape for every domain.

A service raises a `RuleError` (or a subclass) when an action breaks a rule. The units
of work (`portal.kernel.uow`) turn it into a form error beside the field, the API's
`{"error": {...}}`, or the CLI's message and exit code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
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


class NotAllowed(RuleError):
    """The user's role does not hold the grant for this action."""

    code = "forbidden"
    status = 403


class NotFound(RuleError):
    """Out of scope or missing: the two answer alike."""

    code = "not_found"
    status = 404


class ConflictError(RuleError):
    """Someone else saved the record since it was opened (row_version moved on)."""

    code = "conflict"
    status = 409


def conflict_with(message: Any) -> Callable[[], ConflictError]:
    """A domain's conflict: the same error, its own words for what was changed."""
    return lambda: ConflictError(message)


default_conflict = conflict_with(
    _l(
        "Someone else changed this record after you opened it. Your input is kept below: "
        "check the current state and save again."
    )
)


def clean_text(
    value: Any,
    field: str,
    max_len: int,
    *,
    required: Any = None,
    too_long: Any = None,
    error: type[RuleError] = RuleError,
) -> str:
    """A free-text input trimmed; refused beside its field when `required` (the message)
    and empty, or longer than `max_len` (`too_long`, by default "At most n characters")."""
    text = str(value or "").strip()
    if required is not None and not text:
        raise error(required, field=field)
    if len(text) > max_len:
        raise error(too_long or _l("At most %(n)s characters.", n=max_len), field=field)
    return text


def clean_date(
    value: Any, field: str, *, required: bool = True, error: type[RuleError] = RuleError
) -> dt.date | None:
    """A date input (a date, or text that starts `YYYY-MM-DD`), refused beside its field
    when it is not one, or when `required` and empty (None when optional and empty)."""
    if isinstance(value, dt.date):
        return value
    if not value:
        if required:
            raise error(_l("A date is required."), field=field)
        return None
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise error(_l("Enter the date as YYYY-MM-DD."), field=field) from None


def missing_version() -> RuleError:
    return RuleError(
        _l(
            "This form is missing the version of the record it was based on. "
            "Reload the page and save again."
        ),
        field="row_version",
    )


def check_version(
    row: Any, expected: int | str | None, conflict: Callable[[], RuleError] = default_conflict
) -> None:
    """Optimistic concurrency: the form/API carries the row_version it was shown.

    The version is required: an edit that does not say which version it is based on is
    refused (400, field `row_version`) rather than let through unchecked; a stale or
    unreadable one is a conflict (409)."""
    if expected is None or (isinstance(expected, str) and not expected.strip()):
        raise missing_version()
    try:
        expected_int = int(expected)
    except (TypeError, ValueError):
        raise conflict() from None
    if row.row_version != expected_int:
        raise conflict()


def flush(conflict: Callable[[], RuleError] = default_conflict) -> None:
    """Flush, turning a concurrent update caught by the version column into a conflict."""
    try:
        db.session.flush()
    except StaleDataError as e:
        raise conflict() from e
