"""Where an upload waits between the import's steps. An uploaded sheet holds plaintext ID
numbers, so it is kept only encrypted (AES-GCM under the PII key) in the upload folder,
under the district's own directory, and deleted once imported. Beside it: the preview's
checked rows (encrypted the same way) and the progress file the page polls.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.register import pii
from portal.register.excel import cell_text, open_sheet
from portal.register.rules import RegisterError
from portal.tenancy import scope

MAX_ROWS = 20_000
PROGRESS_EVERY = 250
_PURPOSE = b"register-import"
_TOKEN = re.compile(r"[0-9a-f]{32}")


def _expired() -> RegisterError:
    return RegisterError(_l("The upload has expired; upload the file again."), "file")


def stash_dir() -> Path:
    tenant = scope.current().tenant_id
    path = Path(current_app.config["UPLOAD_DIR"]) / "register-import" / str(tenant)
    path.mkdir(parents=True, exist_ok=True)
    return path


def stash_path(token: str) -> Path:
    if not _TOKEN.fullmatch(token or ""):
        raise _expired()
    path = stash_dir() / f"{token}.bin"
    if not path.exists():
        raise _expired()
    return path


def stash_upload(upload: Any) -> tuple[str, list[str]]:
    """Read the sheet once and keep its cells (as text), encrypted, for the next steps:
    checking and importing then never parse the workbook again."""
    if upload is None or not upload.filename:
        raise RegisterError(_l("Choose an .xlsx file."), "file")
    if not upload.filename.lower().endswith(".xlsx"):
        raise RegisterError(_l("The file is not an Excel workbook (.xlsx)."), "file")
    ws = open_sheet(io.BytesIO(upload.read()))
    cells: list[list[str]] = []
    for row in ws.iter_rows(values_only=True):
        if len(cells) > MAX_ROWS + 1:
            raise RegisterError(_l("At most %(n)d rows per import.", n=MAX_ROWS), "file")
        cells.append([cell_text(c) for c in row])
    headings = [c for c in (cells[0] if cells else []) if c]
    if not headings:
        raise RegisterError(_l("The first row must hold the column headings."), "file")
    token = secrets.token_hex(16)
    seal_to(stash_dir() / f"{token}.bin", cells)
    return token, headings


def load_stash(token: str) -> list[list[str]]:
    try:
        return json.loads(open_sealed(stash_path(token)))
    except ValueError:  # a stash of an older format (an .xlsx): upload again
        raise _expired() from None


def seal_to(path: Path, value: Any) -> None:
    """`value` as JSON, encrypted under the current PII key."""
    ring = pii.keyring()
    nonce = os.urandom(12)
    data = json.dumps(value, ensure_ascii=False).encode()
    sealed = ring.cipher(ring.current_id).encrypt(nonce, data, _PURPOSE)
    path.write_bytes(ring.current_id.encode() + b":" + nonce + sealed)


def open_sealed(path: Path) -> bytes:
    raw = path.read_bytes()
    kid, _sep, rest = raw.partition(b":")
    ring = pii.keyring()
    if kid.decode() not in ring.keys:
        raise _expired()
    return ring.cipher(kid.decode()).decrypt(rest[:12], rest[12:], _PURPOSE)


def discard(token: str) -> None:
    """The upload and everything kept beside it (checked rows, progress): gone."""
    if not _TOKEN.fullmatch(token or ""):
        return
    for leftover in stash_dir().glob(f"{token}.*"):
        with contextlib.suppress(OSError):
            leftover.unlink()


# -- progress of a long check or import (polled by the import page) ---------------------


class Progress:
    """Rows checked / written so far for one upload, in a small JSON file beside the
    stashed sheet (counts and the stage only, no personal data), so the page can poll it
    while its own request is still working — whichever worker answers the poll."""

    def __init__(self, token: str, stage: str, total: int) -> None:
        self.path = stash_dir() / f"{token}.progress.json" if token else None
        self.stage, self.total, self.user = stage, total, _current_user_id()
        self.write(0)

    def write(self, done: int, force: bool = False) -> None:
        if self.path is None or not (force or done % PROGRESS_EVERY == 0):
            return
        data = {"stage": self.stage, "done": done, "total": self.total, "user": self.user}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(self.path)

    def step(self, done: int) -> None:
        """Progress at a coarser step than every row (a written chunk)."""
        self.write(done, force=True)

    def finish(self) -> None:
        self.write(self.total, force=True)


def _current_user_id() -> str:
    from flask_login import current_user

    return str(getattr(current_user, "id", "") or "")


def read_progress(token: str) -> dict | None:
    """The upload's progress for the user who uploaded it; None for anyone else."""
    if not _TOKEN.fullmatch(token or ""):
        return None
    path = stash_dir() / f"{token}.progress.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if data.get("user") != _current_user_id():
        return None
    return {k: data[k] for k in ("stage", "done", "total")}
