"""Forms of the duty pages: CSRF and field rendering; the rules are in services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, MultipleFileField, SelectField, StringField, TextAreaField

from portal.duties.models import Assessment

ASSESSMENT_LABELS = {
    Assessment.fully: _l("Fully delivered"),
    Assessment.partly: _l("Partly delivered"),
    Assessment.not_delivered: _l("Not delivered"),
    Assessment.not_applicable: _l("Not applicable"),
}


class EntryForm(FlaskForm):
    work_date = StringField(_l("Date of the work"))
    narrative = TextAreaField(_l("What was done"))
    families_reached = StringField(_l("Families reached"), default="0")
    amount_paid = StringField(_l("Amount paid (元)"), default="0")
    files = MultipleFileField(_l("Evidence files (PDF, images, Word, Excel, text)"))
    evidence_date = StringField(_l("Evidence effective date"))
    row_version = HiddenField()


class SignOffForm(FlaskForm):
    assessment = SelectField(
        _l("Assessment"),
        choices=[("", "—")] + [(a.value, label) for a, label in ASSESSMENT_LABELS.items()],
    )
    statement = TextAreaField(_l("Sign-off statement"))
    reason = TextAreaField(_l("Reason (needed unless fully delivered)"))
    row_version = HiddenField()


class ReviewForm(FlaskForm):
    """The decision comes from the pressed button (name="decision": accept / return)."""

    reason = TextAreaField(_l("Review note (needed when returning)"))
    row_version = HiddenField()
