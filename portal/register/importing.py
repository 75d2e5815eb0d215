"""The import of a district's existing 名册 (.xlsx): upload → map columns → preview with
every row checked (errors by row and column, in Chinese) → import the valid rows as one
batch of enrolment requests, or download the rejected rows with a reason column.

Set-based for large sheets: the sheet is parsed once at upload (`import_stash`); the
preview checks every row in one pass in Python and asks the register once for all the
file's ID numbers; the import reuses the preview's checked rows (asking the register
again only about duplicates) and writes them with multi-row INSERTs
(`proposals.propose_enrol_many`), audited as one event with its counts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import json
import secrets
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook

from portal.audit import trail
from portal.extensions import db
from portal.register import pii, proposals
from portal.register.excel import cell_text, neutralise
from portal.register.import_stash import (
    MAX_ROWS,
    Progress,
    discard,
    load_stash,
    open_sealed,
    seal_to,
    stash_path,
)
from portal.register.models import Area, AreaKind, Category, ImportMapping
from portal.register.rules import RegisterError, check_id_number, check_phone

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


# -- validation ------------------------------------------------------------------------


@dataclasses.dataclass
class ImportResult:
    headings: list[str]
    rows: list[list[Any]]  # the sheet's data rows as read (for the rejected download)
    valid: list[tuple[int, dict]]  # (sheet row number, proposal data)
    errors_by_row: dict[int, list[tuple[str, str]]]  # sheet row → [(column, message)]

    @property
    def total(self) -> int:
        return len(self.rows)


class _Row:
    """One sheet row's cells by field, and the problems found in it by column."""

    def __init__(self, row: list, col: dict[str, int], mapping: dict[str, str]) -> None:
        self.row, self.col, self.mapping = row, col, mapping
        self.problems: list[tuple[str, str]] = []

    def get(self, field: str) -> str:
        i = self.col.get(field)
        return cell_text(self.row[i]) if i is not None and i < len(self.row) else ""

    def err(self, field: str, message: str) -> None:
        self.problems.append((self.mapping.get(field, field), message))


def _member(r: _Row, prefix: str, relationship: str) -> dict | None:
    """A member as `proposals.checked_member` gives it, plus its ID's blind indexes under
    every key of the ring (`ring`, the current key's first) and the column it came from."""
    name, number, phone = (
        r.get(prefix + "name"),
        r.get(prefix + "id_number"),
        r.get(prefix + "phone"),
    )
    if not (name or number):
        return None
    if not name:
        r.err(prefix + "name", _("This column is empty but required."))
    member = {"relationship": relationship, "name": name[:40], "id_number": number}
    member.update(phone="", birth_date="", gender="", disability_grade="", ring=[])
    member["field"] = prefix + "id_number"
    try:
        number, born, gender = check_id_number(number)
        member.update(id_number=number, birth_date=born.isoformat(), gender=gender.value)
        member["ring"] = pii.blind_indexes(number, "id_number")
    except RegisterError as e:
        r.err(prefix + "id_number", str(e.message))
    try:
        member["phone"] = check_phone(phone) or ""
    except RegisterError as e:
        r.err(prefix + "phone", str(e.message))
    return member


def _check_row(r: _Row, villages: dict[str, Area]) -> dict:
    for field in REQUIRED:
        if not r.get(field):
            r.err(field, _("This column is empty but required."))
    village = villages.get(r.get("village"))
    if r.get("village") and village is None:
        r.err("village", _("No such village in your town."))
    word = r.get("category")
    category = CATEGORY_WORDS.get(word) or (
        Category(word) if word in Category.__members__ else None
    )
    if word and category is None:
        r.err("category", _("Unknown category (失独, 伤残 or 手术并发症)."))
    registered = r.get("registered_on")[:10]
    if registered:
        try:
            dt.date.fromisoformat(registered)
        except ValueError:
            r.err("registered_on", _("Enter the date as YYYY-MM-DD."))
    members = [_member(r, "", "principal"), _member(r, "spouse_", "spouse")]
    return {
        "village_id": str(village.id) if village else "",
        "category": category.value if category else "",
        "level": r.get("level"),
        "address": r.get("address"),
        "registered_on": registered or None,
        "members": [m for m in members if m is not None],
    }


def validate(token: str, mapping: dict[str, str], town_id: uuid.UUID | None) -> ImportResult:
    """Every row checked in one pass; nothing written. Duplicates within the file are
    found as the rows go by, those against the register in one question at the end."""
    missing = [str(label) for f, label in FIELDS if f in REQUIRED and not mapping.get(f)]
    if missing:
        raise RegisterError(_l("Map the required columns: %(c)s", c="、".join(missing)), "mapping")
    if town_id is None:
        raise RegisterError(_l("Your account is not bound to a town."))
    all_rows = load_stash(token)
    headings = [cell_text(c) for c in all_rows[0]] if all_rows else []
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
    parsed: list[tuple[int, dict]] = []
    seen: dict[str, int] = {}  # current-key index -> the row it was first seen on
    progress = Progress(token, "validating", len(data_rows))
    for n, row in enumerate(data_rows, start=2):
        progress.write(n - 2)
        r = _Row(row, col, mapping)
        data = _check_row(r, villages)
        for m in data["members"]:
            if not m["ring"]:
                continue
            if m["ring"][0] in seen:
                r.err(
                    m["field"],
                    _("The same ID number is on row %(n)d of this file.", n=seen[m["ring"][0]]),
                )
            else:
                seen[m["ring"][0]] = n
        parsed.append((n, data))
        if r.problems:
            errors[n] = r.problems
    _reject_registered(parsed, errors, mapping)
    valid = [(n, data) for n, data in parsed if n not in errors]
    progress.finish()
    return ImportResult(headings=headings, rows=data_rows, valid=valid, errors_by_row=errors)


def _reject_registered(
    rows: list[tuple[int, dict]], errors: dict[int, list[tuple[str, str]]], mapping: dict
) -> None:
    """Rows with an ID number the district's register holds already (one question for
    all the rows' indexes, under every key of the ring) get that error."""
    taken = proposals.id_indexes_taken(
        [index for _n, data in rows for m in data["members"] for index in m["ring"]]
    )
    message = _("This ID number is already in the district's register.")
    for n, data in rows:
        for m in data["members"]:
            if taken.intersection(m["ring"]):
                errors.setdefault(n, []).append((mapping.get(m["field"], m["field"]), message))


def _checked_path(token: str, mapping: dict[str, str], town_id: Any) -> Path:
    key = json.dumps(["v2", sorted(mapping.items()), str(town_id)], ensure_ascii=False)
    digest = pii.blind_index(key, "register-import-check")[:16]
    return stash_path(token).with_name(f"{token}.{digest}.checked")


def checked(token: str, mapping: dict[str, str], town_id: uuid.UUID | None) -> ImportResult:
    """The preview's result for this upload, mapping and town (kept encrypted beside the
    stash), with only the duplicates against the register checked again — they are what
    can change between the preview and the import; without a kept result: `validate`."""
    path = _checked_path(token, mapping, town_id)
    try:
        kept = json.loads(open_sealed(path))
    except (OSError, ValueError, RegisterError):
        result = validate(token, mapping, town_id)
        keep_checked(token, mapping, town_id, result)
        return result
    errors = {int(n): [(c, m) for c, m in ps] for n, ps in kept["errors"].items()}
    valid = [(int(n), data) for n, data in kept["valid"]]
    _reject_registered(valid, errors, mapping)
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
    with contextlib.suppress(OSError):  # without it, the import step checks again
        seal_to(_checked_path(token, mapping, town_id), kept)


def rejected_workbook(result: ImportResult) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "rejected"
    ws.append([*result.headings, _("Reason")])
    for n, problems in sorted(result.errors_by_row.items()):
        row = result.rows[n - 2]
        reason = "；".join(f"{c}: {m}" for c, m in problems)
        ws.append(
            [neutralise(cell_text(v)) for v in row]
            + [""] * (len(result.headings) - len(row))
            + [reason]
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def import_valid(user: Any, result: ImportResult, token: str = "") -> str:
    """The valid rows become change requests of one batch, written set-based; the import
    is one audit event with its counts (never a number)."""
    if not result.valid:
        raise RegisterError(_l("No valid rows to import."), "file")
    batch = f"import-{secrets.token_hex(6)}"
    progress = Progress(token, "writing", len(result.valid))
    imported = proposals.propose_enrol_many(
        user, [data for _n, data in result.valid], batch=batch, progress=progress.step
    )
    progress.finish()
    trail.record(
        db.session,
        "register_import",
        entity_type="ChangeRequestBatch",
        entity_id=batch,
        summary=f"import: {imported} rows as requests, {len(result.errors_by_row)} rejected",
        data={"rows": result.total, "imported": imported, "rejected": len(result.errors_by_row)},
    )
    discard(token)
    return batch
