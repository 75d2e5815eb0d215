"""Town officers and village contacts may not open a duty: their home shows none (it used
to show the officer's dashboard over every duty of the district, linking to 404s)."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize("user", ["kaifeng-town1", "kaifeng-village1"])
def test_household_roles_get_a_home_without_duties(login_as, user: str) -> None:  # type: ignore[no-untyped-def]
    b = login_as(user)
    page = b.get("/t/kaifeng/").get_data(as_text=True)
    assert 'id="shortcuts"' in page
    main = page.split('id="main"', 1)[1]
    assert not re.search(r'href="/t/kaifeng/duties/', main)
    assert "open-duties" not in main and "progress-card" not in main
    assert b.get("/t/kaifeng/duties/").status_code == 404
    if user == "kaifeng-town1":
        assert 'id="care-town-panel"' in main  # their town's care figures stay
        assert 'href="/t/kaifeng/register/"' in main
    else:
        assert 'href="/t/kaifeng/care/mine"' in main


def test_officers_keep_their_department_dashboard(login_as) -> None:  # type: ignore[no-untyped-def]
    page = login_as("kaifeng-civil-affairs").get("/t/kaifeng/").get_data(as_text=True)
    assert 'id="progress-card"' in page and 'id="shortcuts"' not in page
