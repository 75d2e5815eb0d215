"""Shared checks for platform tests: a freshly onboarded district really works."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.conftest import Browser

NEW_PASSWORD = "Neu-Passwort-2026"


def lead_signs_in(  # type: ignore[no-untyped-def]
    app, slug: str, username: str, temporary: str, new_password: str = NEW_PASSWORD
) -> Browser:
    """The lead signs in with the temporary password, is made to change it, then works."""
    b = Browser(app)
    r = b.login(username, temporary)
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    r = b.get(f"/t/{slug}/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/account/password")
    r = b.post(
        "/account/password",
        {"current_password": temporary, "new_password": new_password, "confirm": new_password},
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    r = b.get(f"/t/{slug}/")
    assert r.status_code == 200
    return b


def current_duties(app, slug: str) -> int:  # type: ignore[no-untyped-def]
    from portal.duties.models import Duty
    from portal.extensions import db
    from portal.kernel.periods import Period
    from portal.platform import services
    from portal.tenancy import scope

    with app.app_context():
        tenant = services.get_tenant(slug)
        assert tenant is not None
        with scope.tenant_scope(tenant.id):
            return db.session.execute(
                sa.select(sa.func.count(Duty.id)).where(Duty.period == Period.current().code)
            ).scalar_one()


def temporary_password(output: str) -> str:
    match = re.search(r"(?:temporary password[^:]*: |临时密码[^：]*：)(\S+)", output)
    assert match, output
    return match.group(1)


def policy_in_force_for_current_period(policy: dict) -> bool:
    """Duties come only from a policy in force in the period: 张店's ran until 2026-01-07 and
    姜堰's is a draft for comment, so neither yields duties for 2026H2."""

    from portal.kernel.periods import Period

    start = Period.current().start
    until = policy.get("effective_until")
    return policy.get("status", "in_force") == "in_force" and (until is None or until >= start)


def assert_duties_for_current_period(app, slug: str, policy_file) -> None:  # type: ignore[no-untyped-def]
    import yaml

    data = yaml.safe_load(policy_file.read_text(encoding="utf-8"))
    if policy_in_force_for_current_period(data["policy"]):
        assert current_duties(app, slug) > 0
    else:
        assert current_duties(app, slug) >= 0
