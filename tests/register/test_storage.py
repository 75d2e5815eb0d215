"""The database and the audit trail never hold a demo ID or phone number in plaintext."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import BACKEND
from tests.register.helpers import demo_plaintexts


def test_database_dump_holds_no_plaintext_number(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    ids, phones = demo_plaintexts(fresh_app)
    assert ids
    url = fresh_app.config["SQLALCHEMY_DATABASE_URI"]
    from portal.extensions import db

    with fresh_app.app_context():
        db.session.remove()
        db.engine.dispose()
    if BACKEND == "sqlite":
        path = Path(sa.engine.make_url(url).database)
        data = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    else:
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            pytest.skip("pg_dump is not installed")
        owner = sa.engine.make_url(fresh_app.config["DATABASE_OWNER_URL"])
        env = dict(os.environ, PGPASSWORD=owner.password or "")
        data = subprocess.run(
            [
                pg_dump,
                "-h",
                owner.host or "127.0.0.1",
                "-p",
                str(owner.port or 5432),
                "-U",
                owner.username or "postgres",
                "--data-only",
                owner.database,
            ],
            env=env,
            check=True,
            capture_output=True,
        ).stdout
    assert len(data) > 100_000
    assert b"\xe7\xa4\xba\xe4\xbe\x8b" in data  # 示例: the demo areas are there
    leaked = [s for s in ids | phones if s.encode() in data]
    assert not leaked, f"{len(leaked)} plaintext numbers in the database"


def test_no_audit_event_holds_a_plaintext_number(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    import re

    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope
    from tests.register.helpers import tenant_id

    # generate events: a confirmation (persons created, phones changed) and an enrolment
    health = login_as("kaifeng-health", fresh_app)
    queue = health.get("/t/kaifeng/register/requests").get_data(as_text=True)
    rows = re.findall(
        r'data-request="([0-9a-f-]+)".*?name="row_version" value="(\d+)"', queue, re.S
    )
    for request_id, version in rows[:3]:
        health.post(
            f"/t/kaifeng/register/requests/{request_id}/decide",
            {"decision": "confirm", "row_version": version},
            csrf_from="/t/kaifeng/register/requests",
        )
    ids, phones = demo_plaintexts(fresh_app)
    with fresh_app.app_context(), scope.tenant_scope(tenant_id(fresh_app, "kaifeng")):
        events = db.session.execute(sa.select(AuditEvent)).scalars().all()
        person_events = [e for e in events if e.entity_type == "Person"]
        assert person_events, "confirming an enrolment records its persons"
        assert all("id_index" in e.changes for e in person_events if e.action == "create")
        text = "\n".join(f"{e.summary} {e.changes}" for e in events)
        db.session.remove()
    leaked = [s for s in ids | phones if s in text]
    assert not leaked, f"{len(leaked)} plaintext numbers in the audit trail"
