"""Full tenant data export: every record and evidence file, in one zip with a manifest.

Generic over the schema: every table with a `tenant_id` column (walked from the
mapper registry's metadata, parents first) is included, so tables added by later
domains are archived — and purged, and re-imported — without changes here. The
tenant's own audit chain is included, so it still verifies after re-import.

Layout::

    manifest.json           format, tenant, per table {file, count, sha256}, per file {sha256, size}
    data/<table>.json       rows ordered by primary key, canonical JSON
    files/<storage_key>     evidence files as uploaded

The hashes are of canonical content, so an archive re-imported into an empty
database and archived again has identical counts and hashes.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
import io
import json
import uuid
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.audit import trail
from portal.extensions import db
from portal.kernel.rules import RuleError
from portal.platform.lifecycle import record_platform
from portal.tenancy import scope
from portal.tenancy.models import Tenant
from portal.tenancy.services import ensure_department_kinds

FORMAT = "portal-tenant-archive"
VERSION = 1
MAX_ARCHIVE_BYTES = 2 * 1024 * 1024 * 1024  # config ARCHIVE_MAX_BYTES overrides it


class ArchiveError(RuleError):
    """The archive cannot be written or read; nothing was changed."""


def max_bytes() -> int:
    return int(current_app.config.get("ARCHIVE_MAX_BYTES") or MAX_ARCHIVE_BYTES)


def _too_large() -> ArchiveError:
    limit = max_bytes()
    size = f"{limit / 1024 / 1024 / 1024:.1f} GB" if limit >= 1024**3 else f"{limit:,} bytes"
    return ArchiveError(
        _l(
            "The archive is larger than the limit of %(size)s; nothing was imported or "
            "written. Ask the platform's administrator to raise PORTAL_ARCHIVE_MAX_BYTES.",
            size=size,
        )
    )


def tenant_tables() -> list[sa.Table]:
    """The tenants table, then every table with a tenant_id column, parents first."""
    tables = db.Model.metadata.sorted_tables
    return [t for t in tables if t.name == "tenants"] + [
        t for t in tables if "tenant_id" in t.c and t.name != "tenants"
    ]


def _encode(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode()
    return value


def _decode(column: sa.Column, value: Any) -> Any:
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, sa.Uuid):
        return uuid.UUID(value)
    if isinstance(kind, sa.DateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(kind, sa.Date):
        return dt.date.fromisoformat(value)
    if isinstance(kind, sa.Time):
        return dt.time.fromisoformat(value)
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        return decimal.Decimal(value)
    if isinstance(kind, sa.LargeBinary):
        import base64

        return base64.b64decode(value)
    return value


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _where(table: sa.Table, tenant_id: uuid.UUID) -> sa.ColumnElement[bool]:
    return (table.c.id if table.name == "tenants" else table.c.tenant_id) == tenant_id


def _rows(table: sa.Table, tenant_id: uuid.UUID) -> list[dict]:
    conn = db.session.connection()
    order = list(table.primary_key.columns) or list(table.c)
    result = conn.execute(sa.select(table).where(_where(table, tenant_id)).order_by(*order))
    return [{k: _encode(v) for k, v in row._mapping.items()} for row in result]


def parents_first(table: sa.Table, rows: list[dict]) -> list[dict]:
    """Rows of a table that refers to itself (a village to its town, a payment line to the
    line it carries over) ordered so that every row comes after the row it refers to: the
    archive lists rows by primary key, which says nothing about that order."""
    refs = [
        (list(fk.column_keys), [e.column.name for e in fk.elements])
        for fk in table.foreign_key_constraints
        if fk.referred_table is table
    ]
    if not refs:
        return rows

    def own_keys(row: dict) -> set[tuple]:
        return {(tuple(dst), tuple(row.get(c) for c in dst)) for _src, dst in refs}

    def parents(row: dict) -> list[tuple]:
        out = []
        for src, dst in refs:
            values = tuple(row.get(c) for c in src)
            if all(v is not None for v in values):
                out.append((tuple(dst), values))
        return out

    present = set().union(*(own_keys(r) for r in rows))
    placed: set[tuple] = set()
    ordered: list[dict] = []
    pending = list(rows)
    while pending:
        ready = [r for r in pending if all(p in placed or p not in present for p in parents(r))]
        if not ready:  # a cycle (real data has none): keep the archive's order for the rest
            ordered.extend(pending)
            break
        chosen = {id(r) for r in ready}
        for row in ready:
            ordered.append(row)
            placed |= own_keys(row)
        pending = [r for r in pending if id(r) not in chosen]
    return ordered


def _evidence(tenant_id: uuid.UUID) -> list[str]:
    table = db.Model.metadata.tables.get("evidence_files")
    if table is None or "storage_key" not in table.c:
        return []
    conn = db.session.connection()
    return sorted(
        conn.execute(sa.select(table.c.storage_key).where(table.c.tenant_id == tenant_id)).scalars()
    )


def _safe_key(key: str) -> PurePosixPath:
    path = PurePosixPath(key)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ArchiveError(f"unsafe file name in archive: {key!r}")
    return path


def _upload_root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]).resolve()


def write_archive(tenant: Tenant, out: IO[bytes]) -> dict:
    """Write the tenant's archive to `out`; returns the manifest. Audited (platform chain)."""
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "tenant": {"id": str(tenant.id), "slug": tenant.slug, "name": tenant.name},
        "created_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "tables": {},
        "files": {},
    }
    with (
        scope.cross_tenant(f"full data export of {tenant.slug}"),
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf,
    ):
        total = 0
        for table in tenant_tables():
            rows = _rows(table, tenant.id)
            body = canonical(rows)
            total += len(body)
            if total > max_bytes():
                raise _too_large()
            name = f"data/{table.name}.json"
            zf.writestr(name, body)
            manifest["tables"][table.name] = {
                "file": name,
                "count": len(rows),
                "sha256": hashlib.sha256(body).hexdigest(),
            }
        root = _upload_root()
        for key in _evidence(tenant.id):
            path = root / _safe_key(key)
            if not path.is_file():
                manifest["files"][key] = {"missing": True}
                continue
            total += path.stat().st_size
            if total > max_bytes():
                raise _too_large()
            data = path.read_bytes()
            zf.writestr(f"files/{key}", data)
            manifest["files"][key] = {
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
            }
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        record_platform(
            "tenant_archive_exported",
            tenant,
            {
                "rows": sum(t["count"] for t in manifest["tables"].values()),
                "files": len(manifest["files"]),
            },
        )
        db.session.flush()
    return manifest


def archive_bytes(tenant: Tenant) -> tuple[bytes, dict]:
    buf = io.BytesIO()
    manifest = write_archive(tenant, buf)
    return buf.getvalue(), manifest


def read_manifest(source: IO[bytes] | Path) -> dict:
    with zipfile.ZipFile(source) as zf:
        return json.loads(zf.read("manifest.json"))


def import_archive(source: IO[bytes] | Path) -> tuple[Tenant, dict]:
    """Load an archive into this database (slug, ids and usernames must be free).

    Every hash is checked before anything is written; rows are inserted in one
    transaction, parents first; evidence files are written after the commit.
    """
    if isinstance(source, Path) and source.stat().st_size > max_bytes():
        raise _too_large()
    try:
        zf = zipfile.ZipFile(source)
    except zipfile.BadZipFile as e:
        raise ArchiveError("not a zip archive") from e
    with zf:
        # What it unpacks to counts, not the compressed size (a zip bomb is small).
        if sum(info.file_size for info in zf.infolist()) > max_bytes():
            raise _too_large()
        try:
            manifest = json.loads(zf.read("manifest.json"))
        except (KeyError, ValueError) as e:
            raise ArchiveError("the archive has no readable manifest.json") from e
        if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
            raise ArchiveError("not a tenant archive of a supported version")
        known = {t.name: t for t in tenant_tables()}
        data: dict[str, list[dict]] = {}
        for name, entry in manifest["tables"].items():
            if name not in known:
                raise ArchiveError(f"table {name} does not exist in this database")
            body = zf.read(entry["file"])
            if hashlib.sha256(body).hexdigest() != entry["sha256"]:
                raise ArchiveError(f"{entry['file']}: hash does not match the manifest")
            rows = json.loads(body)
            if len(rows) != entry["count"]:
                raise ArchiveError(f"{entry['file']}: row count does not match the manifest")
            data[name] = rows
        files: dict[str, bytes] = {}
        for key, entry in manifest["files"].items():
            if entry.get("missing"):
                continue
            blob = zf.read(f"files/{_safe_key(key)}")
            if hashlib.sha256(blob).hexdigest() != entry["sha256"]:
                raise ArchiveError(f"files/{key}: hash does not match the manifest")
            files[key] = blob
    tenant_rows = data.get("tenants") or []
    if len(tenant_rows) != 1:
        raise ArchiveError("the archive must hold exactly one tenant")
    tenant_id = uuid.UUID(tenant_rows[0]["id"])
    slug = tenant_rows[0]["slug"]
    with scope.cross_tenant(f"import archive of {slug}"):
        try:
            if db.session.execute(
                sa.select(Tenant.id).where((Tenant.slug == slug) | (Tenant.id == tenant_id))
            ).first():
                raise ArchiveError(f"a tenant {slug} (or with its id) already exists here")
            users = known.get("users")
            names = [r["username"] for r in data.get("users", [])]
            if users is not None and names:
                taken = db.session.execute(
                    sa.select(users.c.username).where(users.c.username.in_(names))
                ).scalars()
                taken = sorted(taken)
                if taken:
                    raise ArchiveError(f"usernames already exist here: {', '.join(taken)}")
            ensure_department_kinds()
            db.session.flush()
            conn = db.session.connection()
            for table in tenant_tables():
                rows = data.get(table.name)
                if not rows:
                    continue
                cols = table.c
                conn.execute(
                    table.insert(),
                    [
                        {k: _decode(cols[k], v) for k, v in row.items() if k in cols}
                        for row in parents_first(table, rows)
                    ],
                )
            trail.record(
                db.session,
                "tenant_archive_imported",
                tenant_id=trail.PLATFORM_CHAIN,
                entity_type="Tenant",
                entity_id=tenant_id,
                summary=slug,
                data={"rows": sum(len(r) for r in data.values()), "files": len(files)},
            )
            db.session.flush()
        except Exception:
            db.session.rollback()
            raise
        tenant = db.session.get(Tenant, tenant_id)
    root = _upload_root()

    def write_files() -> None:
        for key, blob in files.items():
            path = root / _safe_key(key)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(blob)

    from portal.platform.services import after_commit

    after_commit(write_files)  # the files land only with the rows that point at them
    assert tenant is not None
    return tenant, manifest
