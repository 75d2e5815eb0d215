"""Issue 19: refusals are recorded so a probe shows, without growing the chain per request."""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa


def _denials(application, slug: str) -> list[dict]:  # type: ignore[no-untyped-def]
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    with application.app_context(), scope.cross_tenant("test: count denials"):
        tenant_id = db.session.execute(sa.select(Tenant.id).filter_by(slug=slug)).scalar_one()
        rows = db.session.execute(
            sa.select(AuditEvent.changes)
            .where(AuditEvent.tenant_id == tenant_id, AuditEvent.action == "access_denied")
            .order_by(AuditEvent.seq)
        ).scalars()
        return [json.loads(r) for r in rows]


@pytest.mark.parametrize(
    ("username", "slug", "path", "probes", "repeats"),
    [
        # one user asking for missing duties again and again
        (
            "kaifeng-civil-affairs",
            "kaifeng",
            lambda i: f"/t/kaifeng/duties/{uuid.uuid4()}",
            120,
            [1, 10, 100],
        ),
        # a lead probing another district's URLs and a district that does not exist
        (
            "zhangdian-lead",
            "zhangdian",
            lambda i: f"/t/{'kaifeng' if i % 2 else 'nosuch'}/duties/",
            30,
            [1, 10],
        ),
    ],
    ids=["repeated-404s", "cross-district-probes"],
)
def test_denials_are_aggregated_with_a_count(  # type: ignore[no-untyped-def]
    fresh_app, login_as, username, slug, path, probes, repeats
) -> None:
    b = login_as(username, fresh_app)
    before = len(_denials(fresh_app, slug))
    for i in range(probes):
        assert b.get(path(i)).status_code == 404
    events = _denials(fresh_app, slug)[before:]
    assert [e.get("repeats") for e in events] == repeats


def test_reported_counts() -> None:
    from portal.kernel.denials import _is_reported

    assert [n for n in range(1, 2001) if _is_reported(n)] == [1, 10, 100, 1000]
