"""Evidence files: checking an upload, keeping it on disk with the transaction, finding it.

A file is written under a temporary name while the request runs and moved to its
storage key only after the database has committed the row that names it
(`after_commit`). When the transaction ends any other way (a broken rule, a refused
COMMIT, a lost connection) the temporary file is deleted (`after_transaction_end`), so
no failed write leaves a file behind. A directory that cannot take the file (read-only,
full) is a `StorageError` with a message for the user, not a server error.

A process killed between COMMIT and the move leaves `<key>.<hex>.part` beside the key;
the download answers "not found" for that file until an operator moves it into place.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from portal.duties.models import EvidenceFile, ProgressEntry
from portal.duties.rules import DutyError, NotFound, StorageError
from portal.extensions import db

log = logging.getLogger(__name__)

# Evidence: extension → (content type, magic prefixes; empty = text that must be UTF-8).
EVIDENCE_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (b"PK\x03\x04",),
    ),
    "doc": ("application/msword", (b"\xd0\xcf\x11\xe0",)),
    "xls": ("application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0",)),
    "txt": ("text/plain", ()),
}
DEFAULT_EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
PENDING = "portal.duties.pending_files"


@dataclass
class Upload:
    """A file to attach: the UI passes werkzeug FileStorage data, the API/tests bytes."""

    filename: str
    data: bytes
    effective_date: dt.date | None = None


def max_bytes() -> int:
    if has_app_context():
        return int(current_app.config.get("EVIDENCE_MAX_BYTES", DEFAULT_EVIDENCE_MAX_BYTES))
    return DEFAULT_EVIDENCE_MAX_BYTES


def upload_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


# Bidirectional controls make "x\u202eexe.pdf" display as "xfdp.exe": never kept in a name.
BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")


def safe_filename(name: str) -> str:
    base = re.split(r"[\\/]", name or "")[-1].replace("\x00", "")
    base = BIDI.sub("", base).strip()
    base = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "_", base)
    return base[-200:] or "file"


def validate(upload: Upload) -> tuple[str, str]:
    """(safe filename, content type) or a `DutyError` on the files field naming the file."""
    filename = safe_filename(upload.filename)
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in EVIDENCE_TYPES:
        raise DutyError(
            _l(
                "%(name)s: this file type is not accepted (allowed: %(types)s).",
                name=filename,
                types=", ".join(sorted(EVIDENCE_TYPES)),
            ),
            field="files",
        )
    limit = max_bytes()
    if not upload.data:
        raise DutyError(_l("%(name)s: the file is empty.", name=filename), field="files")
    if len(upload.data) > limit:
        raise DutyError(
            _l(
                "%(name)s: the file is larger than %(mb)s MB.",
                name=filename,
                mb=round(limit / 1024 / 1024, 1),
            ),
            field="files",
        )
    content_type, magics = EVIDENCE_TYPES[ext]
    if magics and not any(upload.data.startswith(m) for m in magics):
        raise DutyError(
            _l("%(name)s: the content does not match its file type.", name=filename),
            field="files",
        )
    if not magics:
        try:
            upload.data.decode("utf-8")
        except UnicodeDecodeError:
            raise DutyError(
                _l("%(name)s: a .txt file must be UTF-8 text.", name=filename), field="files"
            ) from None
    return filename, content_type


def _write_pending(key: str, data: bytes) -> None:
    """Write under a temporary name; the move to `key` waits for the COMMIT."""
    final = upload_dir() / key
    part = final.with_name(f"{final.name}.{uuid.uuid4().hex}.part")
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        with open(part, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as e:
        log.error("evidence upload could not be written to %s: %s", part.parent, e)
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
        raise StorageError(
            _l(
                "The file could not be stored: the server's file storage is not available "
                "or full. Nothing was saved; your entry is kept below. Please try again later "
                "or tell the system administrator."
            ),
            field="files",
        ) from e
    db.session.info.setdefault(PENDING, []).append((part, final))


def write_file(tenant_id: Any, data: bytes, folder: str = "") -> tuple[str, str]:
    """Keep `data` under a new storage key of the tenant (pending the COMMIT); returns
    (storage key, sha256). Duty evidence and other domains' files (care's visit photos)
    share this one way of storing."""
    digest = hashlib.sha256(data).hexdigest()
    prefix = f"{tenant_id}/{folder}/" if folder else f"{tenant_id}/"
    key = f"{prefix}{digest[:2]}/{uuid.uuid4().hex}"
    _write_pending(key, data)
    return key, digest


def saved(tenant_id: Any, upload: Upload, folder: str = "") -> dict[str, Any]:
    """Check and keep an upload (pending the COMMIT): the columns every stored-file row
    has — filename, content type, size, sha256 and storage key (evidence, visit photos)."""
    filename, content_type = validate(upload)
    key, digest = write_file(tenant_id, upload.data, folder)
    return {
        "filename": filename,
        "content_type": content_type,
        "size": len(upload.data),
        "sha256": digest,
        "storage_key": key,
    }


def store(entry: ProgressEntry, upload: Upload, user: Any) -> EvidenceFile:
    """The evidence row for an upload, its file written pending the transaction."""
    evidence = EvidenceFile(
        entry_id=entry.id,
        department_id=entry.department_id,
        effective_date=upload.effective_date,
        uploaded_by_id=getattr(user, "id", None),
        **saved(entry.tenant_id, upload),
    )
    db.session.add(evidence)
    return evidence


def path_of(evidence: EvidenceFile) -> Path:
    """The stored file of an evidence row; `NotFound` if its key leaves the upload dir."""
    root = upload_dir().resolve()
    path = (root / evidence.storage_key).resolve()
    if root not in path.parents:
        raise NotFound(_l("The file was not found."))
    return path


# --- the files follow the transaction ------------------------------------------------------


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    for part, final in session.info.pop(PENDING, []):
        try:
            os.replace(part, final)
        except OSError as e:  # the row is committed; the file stays as .part for an operator
            log.error("evidence file %s could not be moved into place: %s", final, e)


@event.listens_for(Session, "after_transaction_end")
def _discard(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    for part, _final in session.info.pop(PENDING, []):
        try:
            part.unlink(missing_ok=True)
        except OSError as e:
            log.error("pending evidence file %s could not be removed: %s", part, e)
