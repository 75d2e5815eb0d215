"""The kernel's stale-version check: required by default, one answer for every domain."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from portal.kernel.rules import ConflictError, RuleError, check_version


@pytest.mark.parametrize("missing", [None, "", "   "])
def test_a_missing_version_is_refused_naming_the_field(missing) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuleError) as caught:
        check_version(SimpleNamespace(row_version=3), missing)
    assert not isinstance(caught.value, ConflictError)
    assert caught.value.field == "row_version" and caught.value.status == 400


@pytest.mark.parametrize("stale", [2, "4", "x"])
def test_a_stale_or_unreadable_version_is_a_conflict(stale) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConflictError):
        check_version(SimpleNamespace(row_version=3), stale)


def test_the_version_shown_passes() -> None:
    check_version(SimpleNamespace(row_version=3), "3")
    check_version(SimpleNamespace(row_version=3), 3)
