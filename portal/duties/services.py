"""The duty cycle's rules, shared by the UI, the JSON API and the CLI.

Periods are half-years (`2026H1`, `2026H2`). Duties are generated from the policy
version in force; officers log `ProgressEntry`s and sign a duty off for the period;
the district lead accepts or returns it. Status (workflow) and assessment (the
officer's judgement) are separate. Every write runs in the caller's transaction:
the caller commits once, so nothing is half-written.

All functions work in the current tenant scope (`portal.tenancy.scope`); they never
filter by tenant themselves.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import hashlib
import os
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager, joinedload

from portal.audit import trail
from portal.auth.models import User
from portal.db import utcnow
from portal.duties.models import (
    Assessment,
    Duty,
    DutyReviewRecord,
    DutyStatus,
    EvidenceFile,
    ProgressEntry,
)
from portal.extensions import db
from portal.kernel import events, rules
from portal.kernel.grants import can
from portal.policy import rules as policy_rules
from portal.policy.models import Measure, MeasureResponsibility, PolicyVersion
from portal.tenancy import scope
from portal.tenancy.models import Department

PERIOD_RE = re.compile(r"^(\d{4})H([12])$")
SIGNED = (DutyStatus.submitted, DutyStatus.accepted)
OPEN = (DutyStatus.not_started, DutyStatus.in_progress, DutyStatus.returned)
MAX_NARRATIVE = 5000
MAX_REASON = 2000
MAX_AMOUNT = decimal.Decimal("999999999999.99")

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
    "txt": ("text/plain; charset=utf-8", ()),
}
DEFAULT_EVIDENCE_MAX_BYTES = 10 * 1024 * 1024


# --- errors -----------------------------------------------------------------------------


class DutyError(rules.RuleError):
    """A rule of this domain was broken."""


class ConflictError(DutyError):
    """Someone else saved the record since it was opened (row_version moved on)."""

    code = "conflict"
    status = 409


class NotAllowed(DutyError):
    code = "forbidden"
    status = 403


def _conflict() -> ConflictError:
    return ConflictError(
        _l(
            "Someone else changed this duty after you opened it. Your input is kept below: "
            "check the current state and save again."
        )
    )


def check_version(row: Any, expected: int | str | None) -> None:
    rules.check_version(row, expected, _conflict)


def flush() -> None:
    rules.flush(_conflict)


# --- periods ----------------------------------------------------------------------------


def today() -> dt.date:
    """Today's date; the `TODAY` setting (config or PORTAL_TODAY) pins it for tests and demos."""
    value: Any = None
    if has_app_context():
        value = current_app.config.get("TODAY")
    value = value or os.environ.get("PORTAL_TODAY")
    if isinstance(value, dt.date):
        return value
    if value:
        return dt.date.fromisoformat(str(value))
    return dt.date.today()


def period_for(day: dt.date) -> str:
    return f"{day.year}H{1 if day.month <= 6 else 2}"


def parse_period(value: str | None) -> str:
    """A validated period string, e.g. '2026H2'."""
    text = (value or "").strip().upper()
    match = PERIOD_RE.match(text)
    if not match or not 2000 <= int(match.group(1)) <= 2100:
        raise DutyError(
            _l("The period must look like 2026H1 or 2026H2 (year, H, half)."), field="period"
        )
    return text


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    period = parse_period(period)
    year, half = int(period[:4]), int(period[5])
    if half == 1:
        return dt.date(year, 1, 1), dt.date(year, 6, 30)
    return dt.date(year, 7, 1), dt.date(year, 12, 31)


def current_period() -> str:
    return period_for(today())


def shift_period(period: str, halves: int) -> str:
    period = parse_period(period)
    index = int(period[:4]) * 2 + int(period[5]) - 1 + halves
    return f"{index // 2}H{index % 2 + 1}"


def previous_period(period: str) -> str:
    return shift_period(period, -1)


def next_period(period: str) -> str:
    return shift_period(period, 1)


def period_choices(around: str | None = None, back: int = 4, ahead: int = 1) -> list[str]:
    """Periods for a selector, newest first."""
    centre = around or current_period()
    return [shift_period(centre, k) for k in range(ahead, -back - 1, -1)]


def is_overdue(duty: Duty, on: dt.date | None = None) -> bool:
    """Past the period end (due date) and not signed off."""
    return duty.status not in SIGNED and (on or today()) > duty.due_date


def overdue_condition(on: dt.date | None = None) -> sa.ColumnElement[bool]:
    return sa.and_(Duty.status.not_in(SIGNED), Duty.due_date < (on or today()))


# --- generation -------------------------------------------------------------------------


@dataclass
class GenerationResult:
    period: str
    version: PolicyVersion | None = None
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_signed: int = 0
    removed: int = 0
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "policy_version": str(self.version) if self.version else None,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "kept_signed": self.kept_signed,
            "removed": self.removed,
            "warnings": list(self.warnings),
        }


def version_for_period(period: str) -> tuple[PolicyVersion | None, str | None]:
    """The policy version in force during the period; else the last one, with a warning.

    An expired policy (张店 expired 2026-01-07) keeps generating duties from its last
    version; a draft (姜堰's 征求意见稿) creates none until adopted (policy.rules).
    """
    start, end = period_bounds(period)
    versions = (
        db.session.execute(
            sa.select(PolicyVersion)
            .where(PolicyVersion.effective_from <= end)
            .order_by(PolicyVersion.effective_from.desc(), PolicyVersion.created_at.desc())
        )
        .scalars()
        .all()
    )
    in_force = [v for v in versions if policy_rules.generates_duties(v)]
    for version in in_force:
        if version.effective_until is None or version.effective_until >= start:
            return version, None
    if in_force:
        last = in_force[0]
        return last, str(
            _l(
                "The policy %(doc)s expired on %(date)s; duties for %(period)s follow its last "
                "version until a new one is configured.",
                doc=str(last),
                date=last.effective_until.isoformat() if last.effective_until else "",
                period=period,
            )
        )
    if versions:
        return None, str(
            _l(
                "Only a draft policy (%(doc)s) is configured; it creates no duties until the "
                "district lead adopts it.",
                doc=str(versions[0]),
            )
        )
    return None, str(_l("No policy version is in force; no duties were generated."))


def generate_duties(period: str | None = None) -> GenerationResult:
    """One Duty per (measure, responsible department, period), from the version in force.

    Idempotent. Unsigned duties follow the version (measure, role); signed-off ones
    (submitted, accepted) are never touched; obsolete unsigned duties with no entries
    are removed. The caller commits.
    """
    if scope.current().tenant_id is None:
        raise scope.ScopeError("generate_duties needs a tenant in scope")
    period = parse_period(period or current_period())
    result = GenerationResult(period=period)
    version, warning = version_for_period(period)
    if warning:
        result.warnings.append(warning)
    if version is None:
        return result
    result.version = version
    _, due = period_bounds(period)

    wanted: dict[tuple[uuid.UUID, str], tuple[Measure, MeasureResponsibility]] = {}
    rows = db.session.execute(
        sa.select(Measure, MeasureResponsibility)
        .join(MeasureResponsibility, MeasureResponsibility.measure_id == Measure.id)
        .join(Department, Department.id == MeasureResponsibility.department_id)
        .where(Measure.version_id == version.id, Measure.creates_duty.is_(True))
        .where(Department.active.is_(True))
        .order_by(Measure.position, MeasureResponsibility.position)
    ).all()
    for measure, resp in rows:
        key = (resp.department_id, measure.number)
        if key not in wanted:
            wanted[key] = (measure, resp)

    existing = {
        (d.department_id, d.measure_number): d
        for d in db.session.execute(sa.select(Duty).where(Duty.period == period))
        .unique()
        .scalars()
        .all()
    }
    with_entries = set(
        db.session.execute(
            sa.select(ProgressEntry.duty_id)
            .join(Duty, Duty.id == ProgressEntry.duty_id)
            .where(Duty.period == period)
            .distinct()
        ).scalars()
    )
    for key, (measure, resp) in wanted.items():
        duty = existing.get(key)
        if duty is None:
            db.session.add(
                Duty(
                    period=period,
                    department_id=resp.department_id,
                    measure_id=measure.id,
                    measure_number=measure.number,
                    role=resp.role,
                    due_date=due,
                    status=DutyStatus.not_started,
                )
            )
            result.created += 1
        elif duty.status in SIGNED:
            result.kept_signed += 1
        elif duty.measure_id != measure.id or duty.role != resp.role or duty.due_date != due:
            duty.measure_id, duty.role, duty.due_date = measure.id, resp.role, due
            result.updated += 1
        else:
            result.unchanged += 1
    for key, duty in existing.items():
        if key in wanted:
            continue
        if duty.status in SIGNED:
            result.kept_signed += 1
        elif duty.id not in with_entries and duty.status == DutyStatus.not_started:
            db.session.delete(duty)
            result.removed += 1
        else:
            result.unchanged += 1
    flush()
    if not (result.created or result.updated or result.removed):
        return result
    trail.record(
        db.session,
        "duties.generate",
        entity_type="period",
        entity_id=period,
        summary=f"{period}: +{result.created} ~{result.updated} -{result.removed}",
        data=result.as_dict(),
    )
    return result


# --- progress entries and evidence -------------------------------------------------------


@dataclass
class Upload:
    """A file to attach: the UI passes werkzeug FileStorage data, the API/tests bytes."""

    filename: str
    data: bytes
    effective_date: dt.date | None = None


def _max_evidence_bytes() -> int:
    if has_app_context():
        return int(current_app.config.get("EVIDENCE_MAX_BYTES", DEFAULT_EVIDENCE_MAX_BYTES))
    return DEFAULT_EVIDENCE_MAX_BYTES


def upload_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def _safe_filename(name: str) -> str:
    base = re.split(r"[\\/]", name or "")[-1].strip().replace("\x00", "")
    base = re.sub(r"[\x00-\x1f<>:\"|?*]", "_", base)
    return base[-200:] or "file"


def validate_upload(upload: Upload) -> tuple[str, str]:
    """(safe filename, content type) or DutyError naming the file."""
    filename = _safe_filename(upload.filename)
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
    limit = _max_evidence_bytes()
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


def _store(entry: ProgressEntry, upload: Upload, user: Any, written: list[Path]) -> EvidenceFile:
    filename, content_type = validate_upload(upload)
    digest = hashlib.sha256(upload.data).hexdigest()
    key = f"{entry.tenant_id}/{digest[:2]}/{uuid.uuid4().hex}"
    path = upload_dir() / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(upload.data)
    written.append(path)
    evidence = EvidenceFile(
        entry_id=entry.id,
        department_id=entry.department_id,
        filename=filename,
        content_type=content_type,
        size=len(upload.data),
        sha256=digest,
        storage_key=key,
        effective_date=upload.effective_date,
        uploaded_by_id=getattr(user, "id", None),
    )
    db.session.add(evidence)
    return evidence


def evidence_path(evidence: EvidenceFile) -> Path:
    path = (upload_dir() / evidence.storage_key).resolve()
    if upload_dir().resolve() not in path.parents:
        raise DutyError(_l("The file was not found."))
    return path


@dataclass
class EntryInput:
    work_date: Any
    narrative: Any
    families_reached: Any = 0
    amount_paid: Any = 0


def _clean_entry(data: EntryInput, period: str) -> tuple[dt.date, str, int, decimal.Decimal]:
    """Validated values; errors name the field."""
    if isinstance(data.work_date, dt.date):
        work_date = data.work_date
    else:
        try:
            work_date = dt.date.fromisoformat(str(data.work_date or "").strip())
        except ValueError:
            raise DutyError(
                _l("Date of the work: please give a date as YYYY-MM-DD."), field="work_date"
            ) from None
    start, end = period_bounds(period)
    if work_date > today():
        raise DutyError(
            _l("Date of the work: the date cannot be in the future."), field="work_date"
        )
    if work_date < start or work_date > end:
        raise DutyError(
            _l(
                "Date of the work: must fall within the period %(period)s (%(start)s – %(end)s).",
                period=period,
                start=start.isoformat(),
                end=end.isoformat(),
            ),
            field="work_date",
        )
    narrative = str(data.narrative or "").strip()
    if not narrative:
        raise DutyError(_l("What was done: please describe the work."), field="narrative")
    if len(narrative) > MAX_NARRATIVE:
        raise DutyError(
            _l("What was done: at most %(n)s characters.", n=MAX_NARRATIVE), field="narrative"
        )
    try:
        families = int(str(data.families_reached if data.families_reached != "" else 0))
    except (TypeError, ValueError):
        families = -1
    if families < 0 or families > 1_000_000:
        raise DutyError(
            _l("Families reached: must be a whole number, 0 or more."), field="families_reached"
        )
    try:
        raw = str(data.amount_paid if data.amount_paid not in (None, "") else "0").strip()
        amount = decimal.Decimal(raw.replace(",", ""))
    except (decimal.InvalidOperation, ValueError):
        amount = decimal.Decimal(-1)
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise DutyError(
            _l("Amount paid (元): must be a number, 0 or more, with at most 2 decimals."),
            field="amount_paid",
        )
    if amount != amount.quantize(decimal.Decimal("0.01")):
        raise DutyError(
            _l("Amount paid (元): must be a number, 0 or more, with at most 2 decimals."),
            field="amount_paid",
        )
    return work_date, narrative, families, amount


def _require(user: Any, action: str) -> None:
    if user is not None and not can(user, action):
        raise NotAllowed(_l("You do not have permission to do this."))


def _review_record(duty: Duty, action: str, user: Any, note: str = "") -> None:
    db.session.add(
        DutyReviewRecord(
            duty_id=duty.id,
            department_id=duty.department_id,
            action=action,
            actor_id=getattr(user, "id", None),
            note=note,
        )
    )


def _touch_for_edit(duty: Duty, user: Any) -> bool:
    """An entry changes: start the duty, or invalidate a sign-off. True if invalidated."""
    if duty.status == DutyStatus.not_started:
        duty.status = DutyStatus.in_progress
        return False
    if duty.status in SIGNED:
        was = duty.status
        duty.status = DutyStatus.in_progress
        duty.reviewed_at = None
        duty.reviewed_by_id = None
        note = str(
            _l("Entries changed after sign-off (%(status)s); a new sign-off is needed.", status=was)
        )
        _review_record(duty, "invalidated", user, note)
        trail.record(
            db.session,
            "duty.invalidated",
            entity_type="Duty",
            entity_id=duty.id,
            department_id=duty.department_id,
            summary=f"{duty.period} {duty.measure_number}: {was} -> in_progress",
        )
        return True
    return False


def add_entry(
    duty: Duty,
    user: Any,
    data: EntryInput,
    uploads: Iterable[Upload] = (),
    expected_version: int | str | None = None,
) -> ProgressEntry:
    """Log work against a duty (officer of its department). The caller commits."""
    _require(user, "duty.log")
    check_version(duty, expected_version)
    work_date, narrative, families, amount = _clean_entry(data, duty.period)
    uploads = list(uploads)
    for upload in uploads:
        validate_upload(upload)
    entry = ProgressEntry(
        duty_id=duty.id,
        department_id=duty.department_id,
        work_date=work_date,
        narrative=narrative,
        families_reached=families,
        amount_paid=amount,
        created_by_id=getattr(user, "id", None),
    )
    db.session.add(entry)
    _touch_for_edit(duty, user)
    flush()
    _attach(entry, uploads, user)
    return entry


def _attach(entry: ProgressEntry, uploads: list[Upload], user: Any) -> None:
    written: list[Path] = []
    try:
        for upload in uploads:
            _store(entry, upload, user, written)
        flush()
    except Exception:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def update_entry(
    entry: ProgressEntry,
    user: Any,
    data: EntryInput,
    uploads: Iterable[Upload] = (),
    expected_version: int | str | None = None,
) -> bool:
    """Edit an entry; returns True when this invalidated a sign-off. The caller commits."""
    _require(user, "duty.log")
    check_version(entry, expected_version)
    work_date, narrative, families, amount = _clean_entry(data, entry.duty.period)
    uploads = list(uploads)
    for upload in uploads:
        validate_upload(upload)
    changed = (
        entry.work_date != work_date
        or entry.narrative != narrative
        or entry.families_reached != families
        or decimal.Decimal(entry.amount_paid) != amount
        or bool(uploads)
    )
    if not changed:
        return False
    entry.work_date, entry.narrative = work_date, narrative
    entry.families_reached, entry.amount_paid = families, amount
    invalidated = _touch_for_edit(entry.duty, user)
    flush()
    _attach(entry, uploads, user)
    return invalidated


def delete_evidence(evidence: EvidenceFile, user: Any) -> bool:
    """Remove an evidence file from an entry (file kept on disk for the audit trail)."""
    _require(user, "duty.log")
    invalidated = _touch_for_edit(evidence.entry.duty, user)
    db.session.delete(evidence)
    flush()
    return invalidated


# --- sign-off and review ----------------------------------------------------------------


def sign_off(
    duty: Duty,
    user: Any,
    *,
    assessment: Any,
    statement: Any,
    reason: Any = "",
    expected_version: int | str | None = None,
) -> None:
    """The department submits the duty for the period. The caller commits."""
    _require(user, "duty.sign_off")
    check_version(duty, expected_version)
    if duty.status in SIGNED:
        raise DutyError(_l("This duty is already signed off for %(period)s.", period=duty.period))
    try:
        value = Assessment(str(assessment or ""))
    except ValueError:
        raise DutyError(
            _l("Assessment: choose fully, partly, not delivered or not applicable."),
            field="assessment",
        ) from None
    statement_text = str(statement or "").strip()
    reason_text = str(reason or "").strip()
    if not statement_text:
        raise DutyError(
            _l("Sign-off statement: please state what the department delivered."),
            field="statement",
        )
    if len(statement_text) > MAX_NARRATIVE:
        raise DutyError(
            _l("Sign-off statement: at most %(n)s characters.", n=MAX_NARRATIVE),
            field="statement",
        )
    if value != Assessment.fully and not reason_text:
        raise DutyError(
            _l("Reason: please explain why the duty was not fully delivered or does not apply."),
            field="reason",
        )
    if len(reason_text) > MAX_REASON:
        raise DutyError(_l("Reason: at most %(n)s characters.", n=MAX_REASON), field="reason")
    if value in (Assessment.fully, Assessment.partly):
        has_entry = db.session.execute(
            sa.select(ProgressEntry.id).where(ProgressEntry.duty_id == duty.id).limit(1)
        ).first()
        if has_entry is None:
            raise DutyError(
                _l("Log at least one progress entry before signing off a delivered duty."),
                field="assessment",
            )
    duty.status = DutyStatus.submitted
    duty.assessment = value
    duty.assessment_reason = reason_text
    duty.sign_off_statement = statement_text
    duty.submitted_at = utcnow()
    duty.submitted_by_id = getattr(user, "id", None)
    duty.reviewed_at = None
    duty.reviewed_by_id = None
    duty.review_note = ""
    _review_record(duty, "submitted", user, statement_text[:400])
    flush()
    trail.record(
        db.session,
        "duty.sign_off",
        entity_type="Duty",
        entity_id=duty.id,
        department_id=duty.department_id,
        summary=f"{duty.period} {duty.measure_number}: {value.value}",
        data={"assessment": value, "statement": statement_text[:400], "reason": reason_text[:400]},
    )


def review(
    duty: Duty,
    user: Any,
    *,
    accept: bool,
    reason: Any = "",
    expected_version: int | str | None = None,
) -> None:
    """The lead accepts or returns a submitted duty; never the submitter. The caller commits."""
    _require(user, "duty.review")
    check_version(duty, expected_version)
    if duty.status != DutyStatus.submitted:
        raise DutyError(_l("Only a submitted duty can be reviewed."))
    if user is not None and duty.submitted_by_id is not None and user.id == duty.submitted_by_id:
        raise NotAllowed(_l("You signed this duty off yourself; someone else must review it."))
    note = str(reason or "").strip()
    if not accept and not note:
        raise DutyError(
            _l("Reason: please say why the duty is returned and what is needed."), field="reason"
        )
    if len(note) > MAX_REASON:
        raise DutyError(_l("Reason: at most %(n)s characters.", n=MAX_REASON), field="reason")
    duty.status = DutyStatus.accepted if accept else DutyStatus.returned
    duty.reviewed_at = utcnow()
    duty.reviewed_by_id = getattr(user, "id", None)
    duty.review_note = note
    action = "accepted" if accept else "returned"
    _review_record(duty, action, user, note)
    flush()
    events.duty_reviewed.send(duty, accepted=accept, actor=user, note=note)
    trail.record(
        db.session,
        f"duty.{action}",
        entity_type="Duty",
        entity_id=duty.id,
        department_id=duty.department_id,
        summary=f"{duty.period} {duty.measure_number}: {action}",
        data={"reason": note[:400]},
    )


# --- reading ----------------------------------------------------------------------------


@dataclass
class DutyRow:
    """A duty with its progress summary (for lists)."""

    duty: Duty
    entries: int
    families: int
    amount: decimal.Decimal
    last_work: dt.date | None

    @property
    def overdue(self) -> bool:
        return is_overdue(self.duty)


def _progress_subquery(period: str | None = None) -> Any:
    """Entries aggregated per duty; limited to the period's duties when one is given."""
    stmt = sa.select(
        ProgressEntry.duty_id.label("duty_id"),
        sa.func.count(ProgressEntry.id).label("entries"),
        sa.func.coalesce(sa.func.sum(ProgressEntry.families_reached), 0).label("families"),
        sa.func.coalesce(sa.func.sum(ProgressEntry.amount_paid), 0).label("amount"),
        sa.func.max(ProgressEntry.work_date).label("last_work"),
    )
    if period:
        # Not an alias: the scoping hook's department condition names the plain table.
        stmt = stmt.join(
            Duty,
            sa.and_(Duty.tenant_id == ProgressEntry.tenant_id, Duty.id == ProgressEntry.duty_id),
        ).where(Duty.period == period)
    return stmt.group_by(ProgressEntry.duty_id).subquery()


def duty_query(
    period: str | None = None,
    status: str | None = None,
    department_id: uuid.UUID | None = None,
    search: str = "",
    overdue: bool = False,
) -> sa.Select:
    """Duties with their progress summary; filters are optional."""
    progress = _progress_subquery(period)
    stmt = (
        sa.select(
            Duty,
            sa.func.coalesce(progress.c.entries, 0),
            sa.func.coalesce(progress.c.families, 0),
            sa.func.coalesce(progress.c.amount, 0),
            progress.c.last_work,
        )
        .outerjoin(progress, progress.c.duty_id == Duty.id)
        .order_by(Duty.due_date, Department.sort_order, Measure.position, Duty.measure_number)
    )
    # Join department and measure once, for sorting and searching, and load them from it.
    stmt = (
        stmt.join(
            Department,
            sa.and_(Department.tenant_id == Duty.tenant_id, Department.id == Duty.department_id),
        )
        .join(Measure, sa.and_(Measure.tenant_id == Duty.tenant_id, Measure.id == Duty.measure_id))
        .options(contains_eager(Duty.department), contains_eager(Duty.measure))
    )
    if period:
        stmt = stmt.where(Duty.period == period)
    if status == "overdue" or overdue:
        stmt = stmt.where(overdue_condition())
    elif status == "open":
        stmt = stmt.where(Duty.status.in_(OPEN))
    elif status in DutyStatus.__members__:
        stmt = stmt.where(Duty.status == DutyStatus(status))
    if department_id:
        stmt = stmt.where(Duty.department_id == department_id)
    if search:
        like = f"%{search.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(
            sa.or_(
                Measure.title.ilike(like),
                Duty.measure_number.ilike(like),
                Department.name.ilike(like),
            )
        )
    return stmt


def rows(stmt: sa.Select, limit: int | None = None, offset: int = 0) -> list[DutyRow]:
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return [
        DutyRow(duty=d, entries=int(n), families=int(f), amount=decimal.Decimal(a), last_work=w)
        for d, n, f, a, w in db.session.execute(stmt).unique().all()
    ]


def count(stmt: sa.Select) -> int:
    return db.session.execute(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    ).scalar_one()


def page(stmt: sa.Select, page_no: int, per_page: int) -> tuple[list[DutyRow], int]:
    """One page of rows and the total; a short page (the usual case) is its own count."""
    offset = (max(page_no, 1) - 1) * per_page
    found = rows(stmt, limit=per_page, offset=offset)
    if 0 < len(found) < per_page or (offset == 0 and not found):
        return found, offset + len(found)
    return found, count(stmt)


def get_duty(duty_id: uuid.UUID) -> Duty | None:
    return scope.get_scoped(Duty, duty_id)


@dataclass
class DutyPage:
    """What the duty's page shows: entries with evidence, review history, people's names."""

    entries: list[ProgressEntry]
    history: list[DutyReviewRecord]
    names: dict[uuid.UUID, str]


@functools.cache
def _duty_page_statements() -> tuple[sa.Select, sa.Select]:
    """Built once: the page runs them with the duty's id as the only parameter."""
    duty_id = sa.bindparam("duty_id")
    entries = (
        sa.select(ProgressEntry, User.display_name)
        .outerjoin(User, User.id == ProgressEntry.created_by_id)
        .where(ProgressEntry.duty_id == duty_id)
        .order_by(ProgressEntry.work_date, ProgressEntry.created_at)
        .options(joinedload(ProgressEntry.evidence))
    )
    history = (
        sa.select(DutyReviewRecord, User.display_name)
        .outerjoin(User, User.id == DutyReviewRecord.actor_id)
        .where(DutyReviewRecord.duty_id == duty_id)
        .order_by(DutyReviewRecord.at)
    )
    return entries, history


def duty_page(duty: Duty) -> DutyPage:
    """Entries and history each with their author's name joined in: two queries."""
    entries_stmt, history_stmt = _duty_page_statements()
    params = {"duty_id": duty.id}
    names: dict[uuid.UUID, str] = {}
    entries = []
    for entry, name in db.session.execute(entries_stmt, params).unique():
        entries.append(entry)
        if name is not None:
            names[entry.created_by_id] = name
    history = []
    for record, name in db.session.execute(history_stmt, params):
        history.append(record)
        if name is not None:
            names[record.actor_id] = name
    missing = {duty.submitted_by_id, duty.reviewed_by_id} - set(names) - {None}
    if missing:  # a sign-off or review without its history record (data from before it)
        names.update(
            db.session.execute(
                sa.select(User.id, User.display_name).where(User.id.in_(missing))
            ).all()
        )
    return DutyPage(entries, history, names)


@dataclass
class MatrixRow:
    department_id: uuid.UUID
    department: str
    counts: dict[str, int]
    overdue: int

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def status_matrix(period: str | None = None) -> list[MatrixRow]:
    """Departments × status counts (plus overdue) for a period, in one query."""
    period = parse_period(period or current_period())
    overdue = sa.case((overdue_condition(), 1), else_=0)
    result = db.session.execute(
        sa.select(
            Department.id,
            Department.name,
            Department.sort_order,
            Duty.status,
            sa.func.count(Duty.id),
            sa.func.sum(overdue),
        )
        .join(Duty, Duty.department_id == Department.id)
        .where(Duty.period == period)
        .group_by(Department.id, Department.name, Department.sort_order, Duty.status)
        .order_by(Department.sort_order, Department.name)
    ).all()
    matrix: dict[uuid.UUID, MatrixRow] = {}
    for dept_id, name, _order, status, n, late in result:
        row = matrix.setdefault(
            dept_id, MatrixRow(dept_id, name, {s.value: 0 for s in DutyStatus}, 0)
        )
        row.counts[DutyStatus(status).value] += int(n)
        row.overdue += int(late or 0)
    return list(matrix.values())


def status_totals(matrix: list[MatrixRow]) -> dict[str, int]:
    totals = {s.value: 0 for s in DutyStatus}
    for row in matrix:
        for k, v in row.counts.items():
            totals[k] += v
    totals["overdue"] = sum(r.overdue for r in matrix)
    totals["total"] = sum(r.total for r in matrix)
    return totals
