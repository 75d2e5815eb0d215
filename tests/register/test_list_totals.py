"""The register list's total: taken from the (category, status) counts the page reads
anyway when only those two are filtered — equal to a direct count, and without a
count statement of its own."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.conftest import statements
from tests.register.helpers import tenant_id

FILTERS = [
    "",
    "?status=registered",
    "?status=exited",
    "?category=bereaved",
    "?category=bereaved&status=registered",
    "?category=disabled_child&status=exited",
    "?category=nonsense&status=registered",  # ignored by the list: ignored by the total
    "?status=nonsense",
]


def _direct(app, query: str) -> int:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.register.models import Category, Household, HouseholdStatus
    from portal.tenancy import scope

    args = dict(p.split("=") for p in query.lstrip("?").split("&") if p)
    stmt = sa.select(sa.func.count()).select_from(Household)
    if args.get("category") in Category.__members__:
        stmt = stmt.where(Household.category == args["category"])
    if args.get("status") in HouseholdStatus.__members__:
        stmt = stmt.where(Household.status == args["status"])
    with app.app_context(), scope.tenant_scope(tenant_id(app, "kaifeng")):
        return int(db.session.execute(stmt).scalar_one())


@pytest.mark.parametrize("query", FILTERS)
def test_total_equals_a_direct_count_without_a_count_statement(app, login_as, query: str) -> None:  # type: ignore[no-untyped-def]
    lead = login_as("kaifeng-lead", app)
    with statements(app) as seen:
        page = lead.get("/t/kaifeng/register/" + query).get_data(as_text=True)
    total = re.search(r'data-total="(\d+)"', page)
    assert total and int(total.group(1)) == _direct(app, query)
    assert not [s for s in seen if "count(*)" in s and "FROM (SELECT" in s], seen
