"""What every page's view does the same way (the web kit: below every domain, never above).

`found_or_404(query(...))`: the record a URL names, or 404. Missing and out of scope look
the same here (the scoped session finds nothing), so no view tells them apart, and none
writes the `if x is None: abort(404)` dance again.
"""

from __future__ import annotations

from typing import TypeVar

from flask import abort

T = TypeVar("T")


def found_or_404(record: T | None) -> T:
    """`record`, or a 404 answer when the URL named nothing this user may see."""
    if record is None:
        abort(404)
    return record
