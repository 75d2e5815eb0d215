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
