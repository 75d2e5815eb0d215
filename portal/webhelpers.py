"""What every page's view does the same way (the web kit: below every domain, never above).

`found_or_404(query(...))`: the record a URL names, or 404. Missing and out of scope look
the same here (the scoped session finds nothing), so no view tells them apart, and none
writes the `if x is None: abort(404)` dance again. `need(can_x)`: the same for a whole
page the user's rule keeps them out of.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

T = TypeVar("T")


def found_or_404(record: T | None) -> T:
    """`record`, or a 404 answer when the URL named nothing this user may see."""
    if record is None:
        abort(404)
    return record


def need(predicate: Callable[[Any], bool]) -> None:
    """Signed out: 401; outside the domain by its rule (`predicate(user)` false: no grant,
    or an officer of a department the domain keeps out): 404, as for a missing record."""
    if not current_user.is_authenticated:
        abort(401)
    if not predicate(current_user):
        abort(404)
