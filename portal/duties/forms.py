"""Forms of the duty pages: CSRF, field rendering and required marks; the rules are in
`portal.duties.operations` (a form never decides what is valid, so the UI and the API
answer alike)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, MultipleFileField, SelectField, StringField, TextAreaField

from portal.duties.models import Assessment
from portal.kernel.forms import PortalForm
from portal.kernel.periods import Period

ASSESSMENT_LABELS = {
    Assessment.fully: _l("Fully delivered"),
    Assessment.partly: _l("Partly delivered"),
    Assessment.not_delivered: _l("Not delivered"),
    Assessment.not_applicable: _l("Not applicable"),
}


class Required:
    """Marks a field required (label mark, `required` attribute); the operation checks it."""

    field_flags = {"required": True}

    def __call__(self, form: Any, field: Any) -> None:
        return None


class EntryForm(PortalForm):
    work_date = StringField(_l("Date of the work"), validators=[Required()])
    narrative = TextAreaField(_l("What was done"), validators=[Required()])
    families_reached = StringField(_l("Families reached"), default="0")
    amount_paid = StringField(_l("Amount paid (元)"), default="0")
    files = MultipleFileField(_l("Evidence files (PDF, images, Word, Excel, text)"))
    evidence_date = StringField(_l("Evidence effective date"))
    row_version = HiddenField()


class SignOffForm(PortalForm):
    assessment = SelectField(
        _l("Assessment"),
        choices=[("", "—")] + [(a.value, label) for a, label in ASSESSMENT_LABELS.items()],
        validators=[Required()],
    )
    statement = TextAreaField(_l("Sign-off statement"), validators=[Required()])
    reason = TextAreaField(_l("Reason (needed unless fully delivered)"))
    row_version = HiddenField()


class ReviewForm(PortalForm):
    """The decision comes from the pressed button (name="decision": accept / return)."""

    reason = TextAreaField(_l("Review note (needed when returning)"))
    row_version = HiddenField()


class GenerateForm(PortalForm):
    """The half-year to generate, chosen from a list of labels (2026年下半年)."""

    period = SelectField(_l("Period"), choices=[], validators=[Required()])

    def set_periods(self, around: Period) -> None:
        choices = Period.choices(Period.current(), back=4, ahead=1)
        if around not in choices:
            choices = sorted({*choices, around}, reverse=True)
        self.period.choices = [(p.code, p.label) for p in choices]
        if not self.period.data:
            self.period.data = around.code
