"""Back-office list arguments that cannot reach the database as a server error (issue 19).

Page numbers and sizes clamped, no sorting on JSON columns (PostgreSQL has no ordering
for `json`), filters that refuse values they cannot clean (a role that is not a role, a
number beyond BIGINT), and database errors shown as a sentence, never SQL.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import flash
from flask_admin.contrib.sqla.filters import EnumEqualFilter
from flask_babel import gettext as _

from portal.extensions import db
from portal.kernel.inputs import MAX_PAGE

log = logging.getLogger("portal.admin.views")


class SafeEnumEqual(EnumEqualFilter):
    """An enum filter that refuses a value that is not a member (Flask-Admin: KeyError)."""

    def validate(self, value: Any) -> bool:
        try:
            self.clean(value)
        except (KeyError, ValueError, TypeError):
            return False
        return True


def _harden_filter(flt: Any) -> Any:
    """Any filter: a value it cannot clean, or a number beyond BIGINT, is refused."""
    original = flt.validate

    def validate(value: Any) -> bool:
        try:
            if not original(value):
                return False
            cleaned = flt.clean(value)
        except (KeyError, ValueError, TypeError, OverflowError, ArithmeticError):
            return False
        values = cleaned if isinstance(cleaned, list | tuple) else [cleaned]
        return all(not isinstance(v, int) or abs(v) < 2**63 for v in values)

    flt.validate = validate
    return flt


def is_json(column: Any) -> bool:
    return isinstance(getattr(column, "type", None), sa.JSON)


class Hardened:
    """Flask-Admin list arguments that cannot reach the database as a server error."""

    _list_columns: Any

    # -- bad input: pages, sorting, filters
    def _get_list_extra_args(self) -> Any:
        """Flask-Admin pages are 0-based: `?page=-1` and `?page=10**20` become a real page."""
        args = super()._get_list_extra_args()
        args.page = max(0, min(args.page or 0, MAX_PAGE))
        args.page_size = max(0, min(args.page_size or 0, 100))
        if args.sort is not None and not 0 <= args.sort < len(self._list_columns):
            args.sort = None
        return args

    def scaffold_sortable_columns(self) -> dict:
        """No sorting on JSON columns: PostgreSQL has no ordering for `json`."""
        return {k: c for k, c in super().scaffold_sortable_columns().items() if not is_json(c)}

    def get_sortable_columns(self) -> dict:
        columns = super().get_sortable_columns()
        return {k: c for k, c in columns.items() if not is_json(c)}

    def scaffold_filters(self, name: Any) -> Any:
        filters = super().scaffold_filters(name)
        return [_harden_filter(f) for f in filters] if filters else filters

    def get_filters(self) -> Any:
        filters = super().get_filters()
        return [_harden_filter(f) for f in filters] if filters else filters

    def handle_view_exception(self, exc: Exception) -> bool:
        """A database error is a sentence for the lead, never SQL with its parameters."""
        if isinstance(exc, sa.exc.SQLAlchemyError):
            db.session.rollback()
            log.warning("admin %s: %s", self.endpoint, exc)
            if isinstance(exc, sa.exc.IntegrityError):
                flash(
                    _("This cannot be done: other records depend on it or it would duplicate one."),
                    "error",
                )
            else:
                flash(_("The change could not be saved. Please try again."), "error")
            return True
        return super().handle_view_exception(exc)  # type: ignore[misc]
