"""/api/v1/households: the register as JSON, with the UI's scoping and masking."""

from __future__ import annotations

from typing import Any

from flask import abort, g, request

from portal.api import api_requires, bp, get_or_404, paginate
from portal.register import queries
from portal.register import rules as register_rules
from portal.register.models import Household


def _check() -> None:
    if not register_rules.can_read(g.api_user):
        abort(404)


@bp.get("/households")
@api_requires("register.read")
def households() -> Any:
    _check()
    on = register_rules.today()
    stmt = queries.household_select(queries.Filters.from_args(request.args), on)
    return paginate(stmt, lambda h: queries.household_view(h, on))


@bp.get("/households/<household_id>")
@api_requires("register.read")
def household(household_id: str) -> Any:
    _check()
    h = get_or_404(Household, household_id)
    return queries.household_view(h, register_rules.today(), members=True)
