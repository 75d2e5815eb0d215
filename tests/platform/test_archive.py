"""Full tenant data export and re-import into an empty database (issue 7)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import make_app


def _add_work_with_evidence(app, slug: str) -> str:  # type: ignore[no-untyped-def]
    """A duty, a progress entry and an evidence file on disk, so the archive has files."""
    from portal.duties.generation import generate_duties
    from portal.duties.models import Duty, EvidenceFile, ProgressEntry
    from portal.extensions import db
    from portal.kernel.grants import SYSTEM
    from portal.kernel.periods import Period
    from portal.platform import services
    from portal.tenancy import scope

    with app.app_context():
        tenant = services.get_tenant(slug)
        with scope.tenant_scope(tenant.id):
            generate_duties(SYSTEM, Period.current().code)
            duty = db.session.execute(sa.select(Duty)).scalars().first()
            if duty is None:
                return ""
            entry = ProgressEntry(
                duty_id=duty.id,
                department_id=duty.department_id,
                work_date=dt.date(2026, 11, 2),
                narrative="走访失独家庭12户，发放慰问金",
                families_reached=12,
                amount_paid=6000,
            )
            db.session.add(entry)
            db.session.flush()
            content = "签收表 2026-11-02\n".encode() * 50
            key = f"{tenant.id}/{entry.id}/sign-sheet.txt"
            path = Path(app.config["UPLOAD_DIR"]) / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            db.session.add(
                EvidenceFile(
                    entry_id=entry.id,
                    department_id=duty.department_id,
                    filename="签收表.txt",
                    content_type="text/plain",
                    size=len(content),
                    sha256=hashlib.sha256(content).hexdigest(),
                    storage_key=key,
                )
            )
            db.session.commit()
            return key


def _counts(app, tenant_id) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.platform.archive import tenant_tables
    from portal.tenancy import scope

    with app.app_context(), scope.cross_tenant("test counts"):
        conn = db.session.connection()
        out = {}
        for t in tenant_tables():
            col = t.c.id if t.name == "tenants" else t.c.tenant_id
            out[t.name] = conn.execute(
                sa.select(sa.func.count()).select_from(t).where(col == tenant_id)
            ).scalar_one()
        db.session.rollback()
        return out


def test_archive_reimports_into_an_empty_database_identically(
    fresh_app, databases, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from portal.platform import archive, services

    fresh_app.config["UPLOAD_DIR"] = str(tmp_path / "uploads-a")
    key = _add_work_with_evidence(fresh_app, "kaifeng")
    assert key
    path = tmp_path / "kaifeng.zip"
    r = fresh_app.test_cli_runner().invoke(args=["tenants", "archive", "kaifeng", str(path)])
    assert r.exit_code == 0, r.output
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    assert "manifest.json" in names and f"files/{key}" in names
    manifest = archive.read_manifest(path)
    assert (
        manifest["files"][key]["sha256"]
        == hashlib.sha256((Path(fresh_app.config["UPLOAD_DIR"]) / key).read_bytes()).hexdigest()
    )
    for table in ("departments", "measures", "users", "progress_entries", "evidence_files"):
        assert manifest["tables"][table]["count"] > 0
    with fresh_app.app_context():
        tenant_id = services.get_tenant("kaifeng").id
    before = _counts(fresh_app, tenant_id)

    empty = make_app(databases.new(demo=False), UPLOAD_DIR=str(tmp_path / "uploads-b"))
    r = empty.test_cli_runner().invoke(args=["tenants", "import-archive", str(path)])
    assert r.exit_code == 0, r.output
    assert _counts(empty, tenant_id) == before
    assert (tmp_path / "uploads-b" / key).read_bytes() == (
        tmp_path / "uploads-a" / key
    ).read_bytes()
    again = tmp_path / "again.zip"
    r = empty.test_cli_runner().invoke(args=["tenants", "archive", "kaifeng", str(again)])
    assert r.exit_code == 0, r.output
    second = archive.read_manifest(again)
    assert second["tables"] == manifest["tables"]
    assert second["files"] == manifest["files"]
    # the district's audit chain came along and still verifies; its users can sign in
    r = empty.test_cli_runner().invoke(args=["audit", "verify", "--tenant", "kaifeng"])
    assert r.exit_code == 0, r.output
    # importing twice is refused, nothing written
    r = empty.test_cli_runner().invoke(args=["tenants", "import-archive", str(path)])
    assert r.exit_code != 0 and "already exists" in r.output
    assert _counts(empty, tenant_id) == before
    from tests.conftest import Browser

    assert Browser(empty).login("kaifeng-lead").status_code == 302
    from portal.extensions import db

    with empty.app_context():
        db.session.remove()
        db.engine.dispose()


def test_tampered_archive_is_refused(fresh_app, databases, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from portal.platform import archive

    with fresh_app.app_context():
        data, _manifest = archive.archive_bytes(
            __import__("portal.platform.services", fromlist=["x"]).get_tenant("jiading")
        )
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.namelist():
            body = src.read(item)
            if item == "data/departments.json":
                body = body.replace("嘉定".encode(), "伪造".encode(), 1)
            dst.writestr(item, body)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(out.getvalue())
    empty = make_app(databases.new(demo=False), UPLOAD_DIR=str(tmp_path / "u"))
    r = empty.test_cli_runner().invoke(args=["tenants", "import-archive", str(bad)])
    assert r.exit_code != 0 and "hash does not match" in r.output
    from portal.extensions import db

    with empty.app_context():
        db.session.remove()
        db.engine.dispose()


def test_oversize_archive_is_refused_with_a_clear_message(
    fresh_app, databases, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: MAX_ARCHIVE_BYTES was declared and never enforced."""
    path = tmp_path / "jiading.zip"
    r = fresh_app.test_cli_runner().invoke(args=["tenants", "archive", "jiading", str(path)])
    assert r.exit_code == 0, r.output
    unpacked = sum(i.file_size for i in zipfile.ZipFile(path).infolist())
    empty = make_app(
        databases.new(demo=False),
        UPLOAD_DIR=str(tmp_path / "u"),
        ARCHIVE_MAX_BYTES=unpacked - 1,  # a byte short of what it unpacks to
    )
    r = empty.test_cli_runner().invoke(args=["tenants", "import-archive", str(path)])
    assert r.exit_code != 0
    assert "超过" in r.output and "上限" in r.output and "未导入" in r.output
    from portal.extensions import db
    from portal.tenancy.services import tenant_by_slug

    with empty.app_context():
        assert tenant_by_slug("jiading") is None  # nothing was imported
        db.session.remove()
        db.engine.dispose()
    # writing one larger than the limit is refused too
    fresh_app.config["ARCHIVE_MAX_BYTES"] = 1000
    r = fresh_app.test_cli_runner().invoke(
        args=["tenants", "archive", "jiading", str(tmp_path / "big.zip")]
    )
    assert r.exit_code != 0 and "上限" in r.output
    # and the console says so instead of failing
    from tests.conftest import Browser

    op = Browser(fresh_app)
    assert op.login("operator").status_code == 302
    r = op.post("/platform/tenants/jiading/archive", {}, csrf_from="/platform/tenants/jiading")
    assert r.status_code == 302
    assert "上限" in op.get("/platform/tenants/jiading").get_data(as_text=True)


def test_import_puts_a_village_after_its_town_whatever_the_archive_order(app) -> None:  # type: ignore[no-untyped-def]
    """Rows are archived by primary key (random among ids made in one millisecond); a
    village inserted before its town broke the foreign key on import."""
    from portal.extensions import db
    from portal.platform.archive import parents_first

    with app.app_context():
        areas = db.Model.metadata.tables["areas"]
        village = {"tenant_id": "t", "id": "a", "parent_id": "b", "name": "示例社区一"}
        town = {"tenant_id": "t", "id": "b", "parent_id": None, "name": "示例街道一"}
        other = {"tenant_id": "t", "id": "c", "parent_id": "z", "name": "外部"}  # parent absent
        assert [r["id"] for r in parents_first(areas, [village, other, town])] == ["c", "b", "a"]
