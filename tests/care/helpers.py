"""Look-ups the care tests share."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from tests.register.helpers import tenant_id


@contextlib.contextmanager
def district(app: Any, slug: str) -> Iterator[None]:
    """The whole district in scope (as the lead sees it), inside an app context."""
    from portal.extensions import db
    from portal.tenancy import scope

    with app.app_context(), scope.tenant_scope(tenant_id(app, slug)):
        try:
            yield
        finally:
            db.session.remove()


def user_named(username: str) -> Any:
    """A demo account of the district in scope (inside `district`)."""
    import sqlalchemy as sa

    from portal.auth.models import User
    from portal.extensions import db

    return db.session.execute(sa.select(User).filter_by(username=username)).scalar_one()


def officer_town(officer: Any) -> Any:
    """The town a town officer is bound to."""
    import sqlalchemy as sa

    from portal.extensions import db
    from portal.register.models import OfficerTown

    return db.session.execute(
        sa.select(OfficerTown.town_id).where(OfficerTown.user_id == officer.id)
    ).scalar_one()


@contextlib.contextmanager
def as_user(user: Any, role: str) -> Iterator[None]:
    """The scope narrowed to the user's rows (a town officer's town …)."""
    import dataclasses

    from portal.tenancy import scope

    token = scope.set_scope(dataclasses.replace(scope.current(), user_id=user.id, role=role))
    try:
        yield
    finally:
        scope.reset_scope(token)
