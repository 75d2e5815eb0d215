"""Tenant lifecycle: provisioning → active → suspended → pending deletion → purged (issue 7)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from tests.conftest import DEMO_PASSWORD, Browser


def _platform_actions(app, slug: str) -> list[str]:  # type: ignore[no-untyped-def]
    from portal.audit.models import PLATFORM_CHAIN, AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope

    with app.app_context(), scope.cross_tenant("test"):
        return list(
            db.session.execute(
                sa.select(AuditEvent.action)
                .where(AuditEvent.tenant_id == PLATFORM_CHAIN, AuditEvent.summary == slug)
                .order_by(AuditEvent.seq)
            ).scalars()
        )


def test_lifecycle_through_the_cli_is_enforced_and_audited(fresh_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from tests.platform.test_archive import _add_work_with_evidence

    fresh_app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    evidence = Path(fresh_app.config["UPLOAD_DIR"]) / _add_work_with_evidence(fresh_app, "jiading")
    assert evidence.is_file()
    run = fresh_app.test_cli_runner().invoke
    assert run(args=["tenants", "restore", "jiading"]).exit_code != 0  # not pending deletion
    assert run(args=["tenants", "purge", "jiading", "--confirm", "jiading"]).exit_code != 0
    r = run(args=["tenants", "suspend", "jiading"])
    assert r.exit_code == 0 and "jiading：已暂停" in r.output
    # suspended: sign-in blocked with a clear message, data kept
    b = Browser(fresh_app)
    r = b.login("jiading-lead", DEMO_PASSWORD)
    assert r.status_code == 401 and "暂停" in r.get_data(as_text=True)
    assert run(args=["tenants", "resume", "jiading"]).exit_code == 0
    assert Browser(fresh_app).login("jiading-lead", DEMO_PASSWORD).status_code == 302
    assert run(args=["tenants", "delete", "jiading"]).exit_code == 0
    # pending deletion: hidden (404), restorable
    b = Browser(fresh_app)
    assert b.login("jiading-lead", DEMO_PASSWORD).status_code == 401
    r = b.get("/t/jiading/")  # anonymous: sign in first, as for any district URL (issue 19)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    r = run(args=["tenants", "purge", "jiading", "--confirm", "jiading-typo"])
    assert r.exit_code != 0 and "不一致" in r.output
    assert run(args=["tenants", "restore", "jiading"]).exit_code == 0
    assert run(args=["tenants", "delete", "jiading"]).exit_code == 0
    assert evidence.is_file()  # kept while restorable
    r = run(args=["tenants", "purge", "jiading", "--confirm", "jiading"])
    assert r.exit_code == 0 and "已清除" in r.output
    assert not evidence.exists()
    assert _platform_actions(fresh_app, "jiading") == [
        "tenant_suspended",
        "tenant_active",
        "tenant_pending_deletion",
        "tenant_suspended",
        "tenant_pending_deletion",
        "tenant_purged",
    ]
    from portal.auth.models import User
    from portal.extensions import db
    from portal.platform import services
    from portal.tenancy import scope
    from portal.tenancy.models import Department, TenantStatus

    with fresh_app.app_context():
        tenant = services.get_tenant("jiading")
        assert tenant.status == TenantStatus.purged
        with scope.tenant_scope(tenant.id):
            assert db.session.execute(sa.select(Department)).first() is None
            assert db.session.execute(sa.select(User)).first() is None
    # the other districts are untouched, and the audit chain still verifies
    assert run(args=["audit", "verify"]).exit_code == 0
    assert Browser(fresh_app).login("kaifeng-lead", DEMO_PASSWORD).status_code == 302


def test_purge_expired_only_takes_tenants_past_the_retention(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.platform import services
    from portal.tenancy import scope
    from portal.tenancy.models import TenantStatus

    run = fresh_app.test_cli_runner().invoke
    assert run(args=["tenants", "delete", "jiading"]).exit_code == 0
    assert run(args=["tenants", "delete", "zhangdian"]).exit_code == 0
    with fresh_app.app_context(), scope.cross_tenant("test: age the request"):
        tenant = services.get_tenant("jiading")
        tenant.status_changed_at = tenant.status_changed_at - dt.timedelta(days=31)
        db.session.commit()
    r = run(args=["tenants", "purge-expired"])
    assert r.exit_code == 0 and "jiading" in r.output and "zhangdian" not in r.output
    with fresh_app.app_context():
        assert services.get_tenant("jiading").status == TenantStatus.purged
        assert services.get_tenant("zhangdian").status == TenantStatus.pending_deletion
