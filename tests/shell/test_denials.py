"""Issue 19: refusals are recorded so a probe shows, without growing the chain per request."""

from __future__ import annotations

import json
import uuid

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


def test_repeated_404s_are_aggregated_with_a_count(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-civil-affairs", fresh_app)
    before = len(_denials(fresh_app, "kaifeng"))
    for _ in range(120):
        assert b.get(f"/t/kaifeng/duties/{uuid.uuid4()}").status_code == 404
    events = _denials(fresh_app, "kaifeng")[before:]
    assert [e.get("repeats") for e in events] == [1, 10, 100]


def test_cross_district_probes_are_aggregated(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("zhangdian-lead", fresh_app)
    before = len(_denials(fresh_app, "zhangdian"))
    for i in range(30):
        assert b.get(f"/t/{'kaifeng' if i % 2 else 'nosuch'}/duties/").status_code == 404
    events = _denials(fresh_app, "zhangdian")[before:]
    assert [e.get("repeats") for e in events] == [1, 10]


def test_reported_counts() -> None:
    from portal.kernel.denials import _is_reported

    assert [n for n in range(1, 2001) if _is_reported(n)] == [1, 10, 100, 1000]
