"""What changes a duty: logging and editing progress entries, sign-off and review.

Each operation asks the grant table (`require`), checks the version the user was shown
(required), applies the status matrix of `portal.duties.rules`, records the audit event
and flushes; it never commits (the caller's unit of work does). Errors name the field
they concern and do not repeat its label (the form shows the message beside it).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.audit import trail
from portal.db import utcnow
from portal.duties import storage
from portal.duties.models import Assessment, Duty, DutyReviewRecord, DutyStatus, ProgressEntry
from portal.duties.rules import (
    MAX_AMOUNT,
    MAX_NARRATIVE,
    MAX_REASON,
    SIGNED,
    DutyError,
    NotAllowed,
    allows,
    check_version,
    flush,
    is_submitter,
    status_label,
)
from portal.duties.storage import Upload
from portal.extensions import db
from portal.kernel import events, timefmt
from portal.kernel.clock import today
from portal.kernel.grants import require
from portal.kernel.periods import Period
from portal.kernel.rules import clean_text


@dataclass
class EntryInput:
    work_date: Any
    narrative: Any
    families_reached: Any = 0
    amount_paid: Any = 0


def _clean_entry(data: EntryInput, period: Period) -> tuple[dt.date, str, int, decimal.Decimal]:
    """Validated values; errors name the field."""
    if isinstance(data.work_date, dt.date):
        work_date = data.work_date
    else:
        try:
            work_date = dt.date.fromisoformat(str(data.work_date or "").strip())
        except ValueError:
            raise DutyError(_l("Please give a date as YYYY-MM-DD."), field="work_date") from None
    if work_date > today():
        raise DutyError(_l("The date cannot be in the future."), field="work_date")
    if not period.contains(work_date):
        raise DutyError(
            _l(
                "The date must fall within %(period)s (%(start)s – %(end)s).",
                period=period.label,
                start=timefmt.format_date(period.start),
                end=timefmt.format_date(period.end),
            ),
            field="work_date",
        )
    described = _l("Please describe the work.")
    narrative = clean_text(
        data.narrative, "narrative", MAX_NARRATIVE, required=described, error=DutyError
    )
    try:
        families = int(str(data.families_reached if data.families_reached != "" else 0))
    except (TypeError, ValueError):
        families = -1
    if families < 0 or families > 1_000_000:
        raise DutyError(_l("Must be a whole number, 0 or more."), field="families_reached")
    try:
        raw = str(data.amount_paid if data.amount_paid not in (None, "") else "0").strip()
        amount = decimal.Decimal(raw.replace(",", ""))
    except (decimal.InvalidOperation, ValueError):
        amount = decimal.Decimal(-1)
    if (
        not amount.is_finite()
        or amount < 0
        or amount > MAX_AMOUNT
        or amount != amount.quantize(decimal.Decimal("0.01"))
    ):
        raise DutyError(
            _l("Must be a number, 0 or more, with at most 2 decimals."), field="amount_paid"
        )
    return work_date, narrative, families, amount


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
            _l(
                "Entries changed after sign-off (%(status)s); a new sign-off is needed.",
                status=status_label(was),
            )
        )
        _review_record(duty, "invalidated", user, note)
        trail.record_on(
            duty,
            "duty.invalidated",
            department_id=duty.department_id,
            summary=duty.measure_number,
            data={"status": {"before": str(was), "after": "in_progress"}},
        )
        return True
    return False


def _attach(entry: ProgressEntry, uploads: list[Upload], user: Any) -> None:
    """Evidence rows and their files; the files land on disk only if the COMMIT does."""
    for upload in uploads:
        storage.store(entry, upload, user)
    flush()


def _checked_entry(
    user: Any,
    row: Any,
    duty: Duty,
    expected_version: int | str | None,
    data: EntryInput,
    uploads: Iterable[Upload],
) -> tuple[tuple, list[Upload]]:
    """What adding and editing an entry check first, in this order: the grant, the version
    of the row edited (the duty, or the entry), the fields within the duty's period, the
    files. Returns the cleaned fields and the uploads."""
    require(user, "duty.log")
    check_version(row, expected_version)
    cleaned = _clean_entry(data, Period.parse(duty.period))
    uploads = list(uploads)
    for upload in uploads:
        storage.validate(upload)
    return cleaned, uploads


def add_entry(
    duty: Duty,
    user: Any,
    data: EntryInput,
    uploads: Iterable[Upload] = (),
    *,
    expected_version: int | str | None,
) -> ProgressEntry:
    """Log work against a duty (an officer of its department)."""
    cleaned, uploads = _checked_entry(user, duty, duty, expected_version, data, uploads)
    work_date, narrative, families, amount = cleaned
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


def update_entry(
    entry: ProgressEntry,
    user: Any,
    data: EntryInput,
    uploads: Iterable[Upload] = (),
    *,
    expected_version: int | str | None,
) -> bool:
    """Edit an entry; True when this withdrew a sign-off."""
    cleaned, uploads = _checked_entry(user, entry, entry.duty, expected_version, data, uploads)
    work_date, narrative, families, amount = cleaned
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


def _status_allows(
    duty: Duty, user: Any, action: str, expected_version: int | str | None, refusal: Any
) -> None:
    """What signing off and reviewing check first, in this order: the grant (`duty.<action>`),
    the version the form was based on, the status matrix (else `refusal`)."""
    require(user, f"duty.{action}")
    check_version(duty, expected_version)
    if not allows(duty, action):
        raise DutyError(refusal)


def sign_off(
    duty: Duty,
    user: Any,
    *,
    assessment: Any,
    statement: Any,
    reason: Any = "",
    expected_version: int | str | None,
) -> None:
    """The department submits the duty for the period, for review."""
    signed = _l(
        "This duty is already signed off for %(period)s.", period=Period.parse(duty.period).label
    )
    _status_allows(duty, user, "sign_off", expected_version, signed)
    try:
        value = Assessment(str(assessment or ""))
    except ValueError:
        raise DutyError(
            _l("Choose fully, partly, not delivered or not applicable."), field="assessment"
        ) from None
    asked = _l("Please state what the department delivered.")
    statement_text = clean_text(
        statement, "statement", MAX_NARRATIVE, required=asked, error=DutyError
    )
    reason_text = clean_text(reason, "reason", MAX_REASON, error=DutyError)
    if value != Assessment.fully and not reason_text:
        raise DutyError(
            _l("Please explain why the duty was not fully delivered or does not apply."),
            field="reason",
        )
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
    trail.record_on(
        duty,
        "duty.sign_off",
        department_id=duty.department_id,
        summary=duty.measure_number,
        data={"assessment": value, "statement": statement_text[:400], "reason": reason_text[:400]},
    )


def review(
    duty: Duty,
    user: Any,
    *,
    accept: bool,
    reason: Any = "",
    expected_version: int | str | None,
) -> None:
    """The reviewer (联席会议办公室) accepts or returns a submitted duty; never its submitter."""
    not_submitted = _l("Only a submitted duty can be reviewed.")
    _status_allows(duty, user, "review", expected_version, not_submitted)
    if is_submitter(user, duty):
        raise NotAllowed(_l("You signed this duty off yourself; someone else must review it."))
    note = str(reason or "").strip()
    if not accept and not note:
        raise DutyError(
            _l("Please say why the duty is returned and what is needed."), field="reason"
        )
    if len(note) > MAX_REASON:
        raise DutyError(_l("At most %(n)s characters.", n=MAX_REASON), field="reason")
    duty.status = DutyStatus.accepted if accept else DutyStatus.returned
    duty.reviewed_at = utcnow()
    duty.reviewed_by_id = getattr(user, "id", None)
    duty.review_note = note
    action = "accepted" if accept else "returned"
    _review_record(duty, action, user, note)
    flush()
    events.duty_reviewed.send(duty, accepted=accept, actor=user, note=note)
    trail.record_on(
        duty,
        f"duty.{action}",
        department_id=duty.department_id,
        summary=duty.measure_number,
        data={"reason": note[:400]},
    )
