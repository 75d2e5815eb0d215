"""/api/v1/households: the register as JSON, with the UI's scoping and masking.

A resident ID number never travels in a URL (URLs end up in access logs, proxies and
browser history): the list refuses `?q=<ID>` with 400 and points to
`POST /api/v1/households/search`, which takes the number in the JSON body.
"""

from __future__ import annotations

from typing import Any

from flask import abort, g, request
from flask_babel import gettext as _

from portal.api import ApiError, api_requires, bp, get_or_404, json_body, paginate
from portal.register import queries
from portal.register import rules as register_rules
from portal.register.models import Household


def _check() -> None:
    if not register_rules.can_read(g.api_user):
        abort(404)


def _list(filters: queries.Filters) -> Any:
    on = register_rules.today()
    stmt = queries.household_select(filters, on)
    queries.areas()  # the rows' town and village names from the session, not per row
    return paginate(stmt, lambda h: queries.household_view(h, on))


@bp.get("/households")
@api_requires("register.read")
def households() -> Any:
    _check()
    if queries.id_in_args(request.args):
        raise ApiError(
            400,
            "id_in_url",
            _(
                "A resident ID number must not be sent in the URL: "
                'use POST /api/v1/households/search with {"q": …} in the body.'
            ),
        )
    return _list(queries.Filters.from_args(request.args))


@bp.post("/households/search")
@api_requires("register.read")
def households_search() -> Any:
    """The same list, filters (town, village, category, status, age_band, q) in the JSON
    body; `q` may be an exact resident ID number (matched through the blind index)."""
    _check()
    body = json_body()
    return _list(queries.Filters.from_args({k: str(v) for k, v in body.items() if v}))


@bp.get("/households/<household_id>")
@api_requires("register.read")
def household(household_id: str) -> Any:
    _check()
    h = get_or_404(Household, household_id)
    return queries.household_view(h, register_rules.today(), members=True)
