"""Issue 19: out-of-scope answers look missing; database outages; forwarded addresses."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.conftest import Browser, make_app


def _body(response) -> str:  # type: ignore[no-untyped-def]
    """The page without per-request tokens (CSRF) so two answers can be compared."""
    text = response.get_data(as_text=True)
    return re.sub(r'value="[^"]{20,}"', 'value=""', text)


def test_other_district_404_is_the_same_as_a_missing_one(login_as) -> None:  # type: ignore[no-untyped-def]
    b = login_as("zhangdian-civil-affairs")
    other = b.get("/t/kaifeng/duties/")
    missing = b.get("/t/nosuch/duties/")
    assert other.status_code == missing.status_code == 404
    assert "开封" not in other.get_data(as_text=True)
    assert "tenant-name" not in other.get_data(as_text=True)
    assert _body(other) == _body(missing)
    assert _body(b.get("/t/kaifeng/")) == _body(b.get("/t/nosuch/"))


def test_anonymous_gets_the_same_for_real_and_missing_districts(app) -> None:  # type: ignore[no-untyped-def]
    c = app.test_client()
    real, missing = c.get("/t/kaifeng/duties/"), c.get("/t/nosuch/duties/")
    assert real.status_code == missing.status_code == 302
    assert real.headers["Location"].startswith("/login")
    assert missing.headers["Location"].startswith("/login")


def _break_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every statement fails as if PostgreSQL were down (connection refused)."""
    from sqlalchemy.orm import Session

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise sa.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("down"))

    monkeypatch.setattr(Session, "execute", refuse)
    monkeypatch.setattr(Session, "get", refuse)
    monkeypatch.setattr(sa.engine.Connection, "execute", refuse)


def test_outage_gives_signed_in_users_the_chinese_page(
    app, login_as, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    b = login_as("kaifeng-lead")
    _break_database(monkeypatch)
    r = b.get("/t/kaifeng/duties/")
    assert r.status_code == 503
    text = r.get_data(as_text=True)
    assert "数据库" in text and "Internal Server Error" not in text
    assert "未保存" not in text  # a read saves nothing, so nothing "was not saved"
    r = b.client.post("/t/kaifeng/duties/", data={"x": "1"})
    assert r.status_code in (503, 400, 405)
    r = app.test_client().get("/api/v1/me", headers={"Authorization": "Bearer pat_x"})
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "database_unavailable"


def test_readiness_sees_the_outage_liveness_does_not(app, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    c = app.test_client()
    assert c.get("/healthz/ready").status_code == 200
    _break_database(monkeypatch)
    assert c.get("/healthz").status_code == 200
    r = c.get("/healthz/ready")
    assert r.status_code == 503
    assert r.get_json()["checks"] == {"database": "failed", "uploads": "ok"}


def test_readiness_sees_an_unwritable_upload_directory(databases, tmp_path) -> None:  # type: ignore[no-untyped-def]
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    application = make_app(databases.new(demo=False), UPLOAD_DIR=str(blocked / "uploads"))
    r = application.test_client().get("/healthz/ready")
    assert r.status_code == 503 and r.get_json()["checks"]["uploads"] == "failed"


def _last_login_ip(application, username: str) -> str:  # type: ignore[no-untyped-def]
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope

    with application.app_context(), scope.cross_tenant("test: read the sign-in event"):
        return db.session.execute(
            sa.select(AuditEvent.ip)
            .where(AuditEvent.actor_name == username, AuditEvent.action.like("login%"))
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.seq.desc())
            .limit(1)
        ).scalar_one()


def _sign_in_from(application, peer: str, forwarded: str) -> None:  # type: ignore[no-untyped-def]
    b = Browser(application)
    b.client.environ_base["REMOTE_ADDR"] = peer
    token = b.csrf("/login")
    r = b.client.post(
        "/login",
        data={"username": "kaifeng-lead", "password": "Demo-2026-pass", "csrf_token": token},
        headers={
            "X-Forwarded-For": forwarded,
            "X-Forwarded-Proto": "https",
            "Referer": "https://localhost/login",
        },
    )
    assert r.status_code == 302


def test_forwarded_address_only_from_a_trusted_proxy(databases) -> None:  # type: ignore[no-untyped-def]
    application = make_app(databases.new(demo=True), TRUSTED_PROXIES="10.0.0.0/8, 127.0.0.1")
    _sign_in_from(application, "10.1.2.3", "203.0.113.9")
    assert _last_login_ip(application, "kaifeng-lead") == "203.0.113.9"
    _sign_in_from(application, "198.51.100.7", "203.0.113.10")
    assert _last_login_ip(application, "kaifeng-lead") == "198.51.100.7"


def test_no_trusted_proxies_means_headers_are_ignored(databases) -> None:  # type: ignore[no-untyped-def]
    application = make_app(databases.new(demo=True))
    _sign_in_from(application, "127.0.0.1", "203.0.113.9")
    assert _last_login_ip(application, "kaifeng-lead") == "127.0.0.1"


def test_trusted_proxies_must_be_addresses() -> None:
    from portal.kernel.proxies import parse_networks

    assert [str(n) for n in parse_networks(" 10.0.0.0/8 ,::1")] == ["10.0.0.0/8", "::1/128"]
    with pytest.raises(ValueError, match="not an address"):
        parse_networks("nginx.local")
