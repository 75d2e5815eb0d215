"""Issue 19 (operations): deploy/backup.sh and restore.sh keep the database and the
upload directory together; a restore serves the evidence and the audit chains verify."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import BACKEND, PG_ADMIN_URL, Browser, make_app
from tests.duties.test_views import (
    BASE,
    DutyStatus,
    _duties,
    _version,
    evidence_links,
    log_entry,
    today,
)

ROOT = Path(__file__).resolve().parents[2]


def _upload(application) -> tuple[str, bytes]:  # type: ignore[no-untyped-def]
    duty = _duties(application, DutyStatus.not_started)[0]
    url = f"{BASE}/{duty.id}"
    officer = Browser(application)
    assert officer.login("kaifeng-civil-affairs").status_code == 302
    day = min(today(), duty.due_date).isoformat()
    content = b"%PDF-1.4 backup drill " + uuid.uuid4().hex.encode()
    file = ("备份演练.pdf", content)
    r = log_entry(officer, url, day, "备份演练", file, row_version=_version(officer, url))
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    link = evidence_links(officer.get(url).get_data(as_text=True))[-1]
    return link, content


def _env(app_url: str, owner_url: str, uploads: Path, tmp: Path) -> dict[str, str]:
    cli = tmp / "portal-cli"
    cli.write_text(f'#!/bin/sh\nexec {sys.executable} -m portal.cli "$@"\n')
    cli.chmod(0o755)
    return dict(
        os.environ,
        PORTAL_DATABASE_URL=app_url,
        PORTAL_MIGRATE_DATABASE_URL=owner_url,
        PORTAL_UPLOAD_DIR=str(uploads),
        PORTAL_SECRET_KEY="test",
        PORTAL_AUDIT_KEY="test-audit-key",
        PORTAL_CLI=str(cli),
        PYTHONPATH=str(ROOT),
    )


def _empty_database(databases, tmp: Path) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A database to restore into: (app URL, owner URL)."""
    if BACKEND == "sqlite":
        url = f"sqlite:///{tmp / 'restored.sqlite3'}"
        return url, url
    name = f"restore_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    databases.created.append(name)
    base = sa.engine.make_url(PG_ADMIN_URL).set(database=name)
    owner = base.render_as_string(hide_password=False)
    app_url = base.set(username="portal_app", password=None).render_as_string(hide_password=False)
    return app_url, owner


def test_backup_and_restore_drill(databases, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app_url = databases.new(demo=True)
    owner_url = databases.owner_url(app_url)
    uploads = tmp_path / "uploads"
    source = make_app(app_url, UPLOAD_DIR=str(uploads))
    link, content = _upload(source)
    with source.app_context():
        from portal.extensions import db

        db.engine.dispose()

    backups = tmp_path / "backups"
    env = _env(app_url, owner_url, uploads, tmp_path)
    made = subprocess.run(
        [str(ROOT / "deploy" / "backup.sh"), str(backups)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    folder = Path(made.stdout.strip().splitlines()[-1])
    assert (folder / "SHA256SUMS").exists() and (folder / "uploads.tar.gz").exists()

    # a damaged backup is refused before anything is touched
    damaged = tmp_path / "damaged"
    subprocess.run(["cp", "-r", str(folder), str(damaged)], check=True)
    (damaged / "uploads.tar.gz").write_bytes(b"not the archive")
    target_url, target_owner = _empty_database(databases, tmp_path)
    restored_uploads = tmp_path / "restored-uploads"
    env = _env(target_url, target_owner, restored_uploads, tmp_path)
    refused = subprocess.run(
        [str(ROOT / "deploy" / "restore.sh"), str(damaged)], env=env, capture_output=True
    )
    assert refused.returncode == 1 and not restored_uploads.exists()

    done = subprocess.run(
        [str(ROOT / "deploy" / "restore.sh"), str(folder)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "restored from" in done.stdout

    restored = make_app(target_url, UPLOAD_DIR=str(restored_uploads))
    officer = Browser(restored)
    assert officer.login("kaifeng-civil-affairs").status_code == 302
    download = officer.get(link)
    assert download.status_code == 200 and download.data == content
    with restored.app_context():
        from portal.extensions import db

        db.engine.dispose()
