"""A stored code shown by its label: one rule for every page, list column and export."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def labeller(table: Mapping[Any, Any]) -> Callable[[Any], str]:
    """The label of a code from `table`, as text (lazy translations resolve in the current
    locale); a code the table lacks shows as itself, no code as an empty string."""

    def label(value: Any) -> str:
        return "" if value is None else str(table.get(value, value))

    return label


def code(value: Any) -> str:
    """A stored code as text: an enum member's value, anything else as itself."""
    return str(getattr(value, "value", value))
