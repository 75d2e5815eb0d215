"""The duties domain's audit vocabulary (registrations only; read by `portal.audit`)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from portal.audit import vocabulary
from portal.duties.forms import ASSESSMENT_LABELS
from portal.duties.models import Duty, EvidenceFile, ProgressEntry
from portal.kernel import periods, timefmt
from portal.policy.models import Measure
from portal.tenancy.models import Department

vocabulary.register_module("duties", _l("Duties"), order=40)

vocabulary.register_actions(
    "duties",
    {
        "duty.sign_off": (_l("Duty signed off"), _l("Assessment: %(assessment)s")),
        "duty.accepted": _l("Sign-off accepted"),
        "duty.returned": _l("Sign-off returned"),
        "duty.invalidated": _l("Sign-off withdrawn by a later edit"),
        "duties.generate": (
            _l("Duties generated"),
            _l("%(created)s created, %(updated)s updated, %(removed)s removed"),
        ),
        "duties.export": (_l("Duties exported"), _l("%(duties)s duties, %(entries)s entries")),
        "evidence.download": _l("Evidence downloaded"),
    },
)

STATUS_LABELS = {
    "not_started": _l("Not started"),
    "in_progress": _l("In progress"),
    "submitted": _l("Submitted"),
    "accepted": _l("Accepted"),
    "returned": _l("Returned"),
}


def _duty_name(row: Any) -> str:
    return f"{periods.label(row.period)} {row.measure_number} {row.title} · {row.name}"


def _duties_named(text: str | vocabulary.TermToCome) -> Any:
    """Duties whose measure title contains the text (search by what people call a duty),
    as a statement of ids: the audit search asks it inside its one look-up of names."""
    import sqlalchemy as sa

    return (
        sa.select(Duty.id)
        .join(Measure, Measure.id == Duty.measure_id)
        .where(vocabulary.contains(Measure.title, text))
        .limit(500)
    )


def _find_duties(text: str) -> list[str]:
    from portal.extensions import db

    return [str(i) for i in db.session.execute(_duties_named(text)).scalars()]


_find_duties.query = _duties_named  # type: ignore[attr-defined]


vocabulary.register_record_type(
    "Duty",
    _l("Duty"),
    fields={
        "status": _l("Status"),
        "assessment": _l("Assessment"),
        "assessment_reason": _l("Reason"),
        "sign_off_statement": _l("Statement"),
        "submitted_at": _l("Signed off at"),
        "reviewed_at": _l("Reviewed at"),
        "review_note": _l("Review note"),
        "measure_number": _l("Measure"),
        "due_date": _l("Due date"),
    },
    values={
        "status": STATUS_LABELS,
        "assessment": {k.value: v for k, v in ASSESSMENT_LABELS.items()},
    },
    names=vocabulary.names_from(
        Duty,
        _duty_name,
        Duty.period,
        Duty.measure_number,
        Measure.title,
        Department.name,
        joins=[
            (Measure, Measure.id == Duty.measure_id),
            (Department, Department.id == Duty.department_id),
        ],
    ),
    find=_find_duties,
    link=vocabulary.link_to("duties.detail", "duty_id"),
)
vocabulary.register_record_type(
    "ProgressEntry",
    _l("Progress entry"),
    fields={
        "work_date": _l("Date of the work"),
        "narrative": _l("What was done"),
        "families_reached": _l("Families reached"),
        "amount_paid": _l("Amount paid (元)"),
    },
    names=vocabulary.names_from(
        ProgressEntry,
        lambda e: f"{timefmt.format_date(e.work_date)} {e.narrative[:30]}",
        ProgressEntry.work_date,
        ProgressEntry.narrative,
    ),
    find=vocabulary.find_in(ProgressEntry, ProgressEntry.narrative),
)
vocabulary.register_named(
    EvidenceFile, _l("Evidence file"), EvidenceFile.filename, find=(EvidenceFile.filename,)
)
vocabulary.register_record_type("DutyReviewRecord", _l("Review record"))
vocabulary.register_record_type("period", _l("Half-year"))
