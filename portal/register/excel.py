"""Excel in and out: the masked register export, the two-column areas sheet, and the
import of a district's existing 名册 (upload → column mapping → validated preview →
import the valid rows as change requests; rejected rows download with a reason column).

An uploaded sheet holds plaintext ID numbers, so it is kept between steps only
encrypted (AES-GCM under the PII key) in the upload folder, under the district's own
directory, and deleted once imported.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import re
import secrets
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook, load_workbook

from portal.extensions import db
from portal.register import operations, pii
from portal.register.models import Area, AreaKind, Category, Household, ImportMapping
from portal.register.rules import RegisterError, check_id_number, check_phone
from portal.tenancy import scope

MAX_ROWS = 20_000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: The fields an import fills, with the sheet headings usually seen in districts' 名册.
FIELDS: list[tuple[str, Any]] = [
    ("village", _l("Village")),
    ("category", _l("Category")),
    ("level", _l("Grade")),
    ("name", _l("Full name")),
    ("id_number", _l("Resident ID number")),
    ("phone", _l("Phone")),
    ("spouse_name", _l("Spouse's name")),
    ("spouse_id_number", _l("Spouse's resident ID number")),
    ("spouse_phone", _l("Spouse's phone")),
    ("address", _l("Home address")),
    ("registered_on", _l("Date registered")),
]
REQUIRED = ("village", "category", "name", "id_number")
GUESSES = {
    "village": ("村居", "社区", "村"),
    "category": ("类别", "类型", "家庭类别"),
    "level": ("等级", "级别"),
    "name": ("姓名", "本人姓名", "户主"),
    "id_number": ("身份证", "身份证号", "公民身份号码"),
    "phone": ("电话", "联系电话", "手机"),
    "spouse_name": ("配偶姓名",),
    "spouse_id_number": ("配偶身份证", "配偶身份证号"),
    "spouse_phone": ("配偶电话",),
    "address": ("地址", "住址", "家庭住址"),
    "registered_on": ("登记日期", "纳入时间", "确认日期"),
}
CATEGORY_WORDS = {
    "失独": Category.bereaved,
    "独生子女死亡": Category.bereaved,
    "伤残": Category.disabled_child,
    "独生子女伤残": Category.disabled_child,
    "手术并发症": Category.surgery_complication,
    "并发症": Category.surgery_complication,
}


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


# -- export ----------------------------------------------------------------------------


def export_households(
    rows: list[Household], on: Any, labels: dict[str, Any], full: bool = False
) -> bytes:
    """The register as .xlsx, masked (ID 4101**********1234, phone 138****5678) unless a
    full export was granted, reasoned and recorded by the caller."""
    show_id = (lambda v: v or "") if full else pii.mask_id
    show_phone = (lambda v: v or "") if full else pii.mask_phone
    wb = Workbook()
    ws = wb.active
    ws.title = "register"
    ws.append(
        [
            _("File number"),
            _("Town"),
            _("Village"),
            _("Category"),
            _("Grade"),
            _("Status"),
            _("Exit reason"),
            _("Full name"),
            _("Relationship"),
            _("Resident ID number"),
            _("Phone"),
            _("Age"),
            _("Alive"),
            _("Date registered"),
        ]
    )
    for h in rows:
        for p in h.persons:
            ws.append(
                [
                    neutralise(v)
                    for v in [
                        h.number,
                        h.town.name,
                        h.village.name,
                        labels["category"](h.category),
                        h.level,
                        labels["status"](h.status),
                        labels["exit"](h.exit_reason) if h.exit_reason else "",
                        p.name,
                        labels["relationship"](p.relationship_),
                        show_id(p.id_number),
                        show_phone(p.phone),
                        p.age(on),
                        _("yes") if p.alive else _("no"),
                        h.registered_on.isoformat(),
                    ]
                ]
            )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def read_two_columns(stream: Any) -> list[tuple[str, str]]:
    """Town and village, one pair a row; a first row of headings is skipped."""
    ws = _open(stream)
    rows = []
    for i, row in enumerate(ws.iter_rows(values_only=True)):
        cells = [str(c).strip() if c is not None else "" for c in list(row)[:2]] + ["", ""]
        if i == 0 and cells[0] in ("街镇", "街道", "乡镇", "town", "Town"):
            continue
        if cells[0]:
            rows.append((cells[0][:80], cells[1][:80]))
    return rows


def _open(stream: Any) -> Any:
    try:
        wb = load_workbook(stream, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable upload
        raise RegisterError(_l("The file is not an Excel workbook (.xlsx)."), "file") from None
    return wb.worksheets[0]


# -- import: upload, mapping -----------------------------------------------------------


def _stash_dir() -> Path:
    tenant = scope.current().tenant_id
    path = Path(current_app.config["UPLOAD_DIR"]) / "register-import" / str(tenant)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _stash_path(token: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", token or ""):
        raise RegisterError(_l("The upload has expired; upload the file again."), "file")
    path = _stash_dir() / f"{token}.bin"
    if not path.exists():
        raise RegisterError(_l("The upload has expired; upload the file again."), "file")
    return path


# -- progress of a long check or import (polled by the import page) ---------------------

PROGRESS_EVERY = 250


class Progress:
    """Rows checked / written so far for one upload, in a small JSON file beside the
    stashed sheet (counts and the stage only, no personal data), so the page can poll it
    while its own request is still working — whichever worker answers the poll."""

    def __init__(self, token: str, stage: str, total: int) -> None:
        self.path = _stash_dir() / f"{token}.progress.json" if token else None
        self.stage, self.total, self.user = stage, total, _current_user_id()
        self.write(0)

    def write(self, done: int, force: bool = False) -> None:
        if self.path is None or not (force or done % PROGRESS_EVERY == 0):
            return
        data = {"stage": self.stage, "done": done, "total": self.total, "user": self.user}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(self.path)

    def finish(self) -> None:
        self.write(self.total, force=True)


def _current_user_id() -> str:
    from flask_login import current_user

    return str(getattr(current_user, "id", "") or "")


def read_progress(token: str) -> dict | None:
    """The upload's progress for the user who uploaded it; None for anyone else."""
    if not re.fullmatch(r"[0-9a-f]{32}", token or ""):
        return None
    path = _stash_dir() / f"{token}.progress.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if data.get("user") != _current_user_id():
        return None
    return {k: data[k] for k in ("stage", "done", "total")}


def stash_upload(upload: Any) -> tuple[str, list[str]]:
    """Read the sheet once and keep its cells (as text), encrypted, for the next steps:
    checking and importing then never parse the workbook again."""
    if upload is None or not upload.filename:
        raise RegisterError(_l("Choose an .xlsx file."), "file")
    if not upload.filename.lower().endswith(".xlsx"):
        raise RegisterError(_l("The file is not an Excel workbook (.xlsx)."), "file")
    ws = _open(io.BytesIO(upload.read()))
    cells: list[list[str]] = []
    for row in ws.iter_rows(values_only=True):
        if len(cells) > MAX_ROWS + 1:
            raise RegisterError(_l("At most %(n)d rows per import.", n=MAX_ROWS), "file")
        cells.append([_cell(c) for c in row])
    headings = [c for c in (cells[0] if cells else []) if c]
    if not headings:
        raise RegisterError(_l("The first row must hold the column headings."), "file")
    token = secrets.token_hex(16)
    _seal_to(_stash_dir() / f"{token}.bin", cells)
    return token, headings


def _seal_to(path: Path, value: Any) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    ring = pii.keyring()
    nonce = os.urandom(12)
    data = json.dumps(value, ensure_ascii=False).encode()
    sealed = AESGCM(ring.current).encrypt(nonce, data, b"register-import")
    path.write_bytes(ring.current_id.encode() + b":" + nonce + sealed)


def _load_stash(token: str) -> list[list[str]]:

    try:
        return json.loads(_open_sealed(_stash_path(token)))
    except ValueError:  # a stash of an older format (an .xlsx): upload again
        raise RegisterError(_l("The upload has expired; upload the file again."), "file") from None


def saved_mapping() -> dict[str, str]:
    row = db.session.execute(sa.select(ImportMapping).filter_by(name="default")).scalar()
    return dict(row.mapping) if row else {}


def remember_mapping(mapping: dict[str, str]) -> None:
    row = db.session.execute(sa.select(ImportMapping).filter_by(name="default")).scalar()
    clean = {k: v[:80] for k, v in mapping.items() if v}
    if row is None:
        db.session.add(ImportMapping(name="default", mapping=clean))
    elif row.mapping != clean:
        row.mapping = clean


def guess_mapping(headings: list[str], saved: dict[str, str]) -> dict[str, str]:
    """The remembered mapping where its headings are present, else a guess by heading."""
    out: dict[str, str] = {}
    for field, _label in FIELDS:
        if saved.get(field) in headings:
            out[field] = saved[field]
            continue
        for h in headings:
            if h.startswith("配偶") != field.startswith("spouse"):
                continue
            if any(g in h for g in GUESSES.get(field, ())):
                out[field] = h
                break
    return out


# -- import: validation ----------------------------------------------------------------


@dataclasses.dataclass
class ImportResult:
    headings: list[str]
    rows: list[list[Any]]  # the sheet's data rows as read (for the rejected download)
    valid: list[tuple[int, dict]]  # (sheet row number, proposal data)
    errors_by_row: dict[int, list[tuple[str, str]]]  # sheet row → [(column, message)]

    @property
    def total(self) -> int:
        return len(self.rows)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def validate(token: str, mapping: dict[str, str], town_id: uuid.UUID | None) -> ImportResult:
    """Every row checked; nothing written."""
    missing = [str(label) for f, label in FIELDS if f in REQUIRED and not mapping.get(f)]
    if missing:
        raise RegisterError(_l("Map the required columns: %(c)s", c="、".join(missing)), "mapping")
    if town_id is None:
        raise RegisterError(_l("Your account is not bound to a town."))
    all_rows = _load_stash(token)
    headings = [_cell(c) for c in all_rows[0]] if all_rows else []
    data_rows = [list(r) for r in all_rows[1:] if any(c not in (None, "") for c in r)]
    if len(data_rows) > MAX_ROWS:
        raise RegisterError(_l("At most %(n)d rows per import.", n=MAX_ROWS), "file")
    col = {f: headings.index(h) for f, h in mapping.items() if h and h in headings}
    villages = {
        a.name: a
        for a in db.session.execute(
            sa.select(Area).where(Area.kind == AreaKind.village, Area.parent_id == town_id)
        ).scalars()
    }
    errors: dict[int, list[tuple[str, str]]] = {}
    parsed: list[tuple[int, dict, list[tuple[str, str]]]] = []  # row, data, [(index, column)]
    seen: dict[str, int] = {}
    ring_indexes: dict[str, str] = {}  # index under any key of the ring -> current index
    progress = Progress(token, "validating", len(data_rows))
    for n, row in enumerate(data_rows, start=2):
        progress.write(n - 2)

        def get(field: str, row: list = row) -> str:
            i = col.get(field)
            return _cell(row[i]) if i is not None and i < len(row) else ""

        problems: list[tuple[str, str]] = []

        def err(field: str, message: str, problems: list = problems) -> None:
            problems.append((mapping.get(field, field), message))

        for field in REQUIRED:
            if not get(field):
                err(field, _("This column is empty but required."))
        village = villages.get(get("village"))
        if get("village") and village is None:
            err("village", _("No such village in your town."))
        category = CATEGORY_WORDS.get(get("category")) or (
            Category(get("category")) if get("category") in Category.__members__ else None
        )
        if get("category") and category is None:
            err("category", _("Unknown category (失独, 伤残 or 手术并发症)."))
        members = []
        indexes: list[tuple[str, str]] = []
        for prefix, rel in (("", "principal"), ("spouse_", "spouse")):
            name, number, phone = (
                get(prefix + "name"),
                get(prefix + "id_number"),
                get(prefix + "phone"),
            )
            if not (name or number):
                continue
            if not name:
                err(prefix + "name", _("This column is empty but required."))
            try:
                number, _born, _g = check_id_number(number)
                ring = pii.blind_indexes(number, "id_number")
                current = pii.blind_index(number, "id_number")
                indexes.append((current, prefix + "id_number"))
                for alt in ring:
                    ring_indexes[alt] = current
            except RegisterError as e:
                err(prefix + "id_number", str(e.message))
            try:
                phone = check_phone(phone) or ""
            except RegisterError as e:
                err(prefix + "phone", str(e.message))
            members.append({"relationship": rel, "name": name, "id_number": number, "phone": phone})
        for index, field in indexes:
            if index in seen:
                err(field, _("The same ID number is on row %(n)d of this file.", n=seen[index]))
            else:
                seen[index] = n
        registered = get("registered_on")
        if registered and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", registered[:10]):
            err("registered_on", _("Enter the date as YYYY-MM-DD."))
        data = {
            "village_id": str(village.id) if village else "",
            "category": category.value if category else "",
            "level": get("level"),
            "address": get("address"),
            "registered_on": registered[:10] or None,
            "members": members,
        }
        parsed.append((n, data, indexes))
        if problems:
            errors[n] = problems
    # duplicates against the register, in one pass over all the file's indexes
    taken = {ring_indexes[i] for i in operations.id_indexes_taken(list(ring_indexes))}
    valid = []
    for n, data, indexes in parsed:
        for index, field in indexes:
            if index in taken:
                errors.setdefault(n, []).append(
                    (
                        mapping.get(field, field),
                        _("This ID number is already in the district's register."),
                    )
                )
        if n not in errors:
            valid.append((n, data))
    progress.finish()
    return ImportResult(headings=headings, rows=data_rows, valid=valid, errors_by_row=errors)


def _checked_path(token: str, mapping: dict[str, str], town_id: Any) -> Path:
    key = json.dumps([sorted(mapping.items()), str(town_id)], ensure_ascii=False)
    digest = pii.blind_index(key, "register-import-check")[:16]
    return _stash_path(token).with_name(f"{token}.{digest}.checked")


def checked(token: str, mapping: dict[str, str], town_id: uuid.UUID | None) -> ImportResult:
    """The preview's result for this upload, mapping and town (kept encrypted beside the
    stash), with only the duplicates against the register checked again — they are what
    can change between the preview and the import; without a kept result: `validate`."""
    path = _checked_path(token, mapping, town_id)
    try:
        kept = json.loads(_open_sealed(path))
    except (OSError, ValueError, RegisterError):
        result = validate(token, mapping, town_id)
        keep_checked(token, mapping, town_id, result)
        return result
    errors = {int(n): [tuple(p) for p in ps] for n, ps in kept["errors"].items()}
    valid = [(int(n), data) for n, data in kept["valid"]]
    ring_indexes: dict[str, tuple[int, str]] = {}
    for n, data in valid:
        for position, m in enumerate(data["members"]):
            field = "id_number" if position == 0 else "spouse_id_number"
            for alt in pii.blind_indexes(m["id_number"], "id_number"):
                ring_indexes[alt] = (n, field)
    taken = {ring_indexes[i] for i in operations.id_indexes_taken(list(ring_indexes))}
    for n, field in sorted(taken):
        errors.setdefault(n, []).append(
            (mapping.get(field, field), _("This ID number is already in the district's register."))
        )
    valid = [(n, data) for n, data in valid if n not in errors]
    return ImportResult(
        headings=kept["headings"], rows=kept["rows"], valid=valid, errors_by_row=errors
    )


def keep_checked(
    token: str, mapping: dict[str, str], town_id: uuid.UUID | None, result: ImportResult
) -> None:
    """Keep a preview's result (encrypted, like the sheet) for the import step."""
    kept = {
        "headings": result.headings,
        "rows": result.rows,
        "valid": result.valid,
        "errors": {str(n): p for n, p in result.errors_by_row.items()},
    }
    with contextlib.suppress(OSError):
        _seal_to(_checked_path(token, mapping, town_id), kept)


def _open_sealed(path: Path) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = path.read_bytes()
    kid, _sep, rest = raw.partition(b":")
    key = pii.keyring().keys.get(kid.decode())
    if key is None:
        raise RegisterError(_l("The upload has expired; upload the file again."), "file")
    return AESGCM(key).decrypt(rest[:12], rest[12:], b"register-import")


def rejected_workbook(result: ImportResult) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "rejected"
    ws.append([*result.headings, _("Reason")])
    for n, problems in sorted(result.errors_by_row.items()):
        row = result.rows[n - 2]
        reason = "；".join(f"{c}: {m}" for c, m in problems)
        ws.append(
            [neutralise(_cell(v)) for v in row]
            + [""] * (len(result.headings) - len(row))
            + [reason]
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def import_valid(user: Any, result: ImportResult, token: str = "") -> str:
    """The valid rows become change requests of one batch; one audit event with counts."""
    from portal.audit import trail

    if not result.valid:
        raise RegisterError(_l("No valid rows to import."), "file")
    batch = f"import-{secrets.token_hex(6)}"
    progress = Progress(token, "writing", len(result.valid))
    operations.propose_enrol_many(
        user, [data for _n, data in result.valid], batch=batch, progress=progress.write
    )
    progress.finish()
    trail.record(
        db.session,
        "register_import",
        entity_type="ChangeRequestBatch",
        entity_id=batch,
        summary=f"import: {len(result.valid)} rows as requests, {len(result.errors_by_row)} rejected",
        data={
            "rows": result.total,
            "imported": len(result.valid),
            "rejected": len(result.errors_by_row),
        },
    )
    if token:
        with contextlib.suppress(RegisterError, OSError):
            _stash_path(token).unlink()
        for leftover in _stash_dir().glob(f"{token}.*"):
            with contextlib.suppress(OSError):
                leftover.unlink()
    return batch
