"""Chinese-first labels for the back office: record types, columns and enum values.

Flask-Admin would otherwise show class names (`ActionItem`), prettified column names
(`Due Date`) and raw enum values (`in_progress`). Enum labels are the domains' own (the
same words the portal's pages use); this module only maps each enum to them.
"""

from __future__ import annotations

import enum
from functools import cache
from typing import Any

from flask_babel import lazy_gettext as _l

MODEL_LABELS: dict[str, Any] = {
    "ActionItem": _l("Action items"),
    "AgendaItem": _l("Agenda items"),
    "BenefitStandard": _l("Benefit standards"),
    "BenefitValue": _l("Benefit amounts"),
    "Decision": _l("Decisions"),
    "DepartmentReport": _l("Department reports"),
    "Duty": _l("Duties"),
    "DutyReviewRecord": _l("Duty reviews"),
    "EvidenceFile": _l("Evidence files"),
    "Measure": _l("Measures"),
    "MeasureResponsibility": _l("Measure responsibilities"),
    "Meeting": _l("Joint meetings"),
    "MeetingArrangement": _l("Meeting arrangements"),
    "MeetingInvitation": _l("Meeting invitations"),
    "Minutes": _l("Minutes"),
    "Notice": _l("Notices"),
    "MinutesComment": _l("Comments on minutes"),
    "PolicyDocument": _l("Policy documents"),
    "PolicyVersion": _l("Policy versions"),
    "ProgressEntry": _l("Progress entries"),
}

COLUMN_LABELS: dict[str, Any] = {
    "action": _l("Action"),
    "active": _l("Active"),
    "amount": _l("Amount"),
    "amount_is_floor": _l("Amount is a minimum"),
    "amount_note": _l("Note on the amount"),
    "amount_paid": _l("Amount paid (yuan)"),
    "assessment": _l("Assessment"),
    "assessment_reason": _l("Reason for the assessment"),
    "after_expiry": _l("Decision after expiry"),
    "after_expiry_decided_at": _l("Decision after expiry taken at"),
    "after_expiry_decided_by": _l("Decision after expiry taken by"),
    "at": _l("Time"),
    "attendance": _l("Attendance"),
    "attendees": _l("Attendees"),
    "body": _l("Text"),
    "cadence": _l("Cadence"),
    "category": _l("Category"),
    "chair": _l("Chair"),
    "chief_convener": _l("Chief convener"),
    "circulated_at": _l("Circulated at"),
    "closed_at": _l("Closed at"),
    "closing_note": _l("Closing note"),
    "content_type": _l("File type"),
    "conveners": _l("Conveners"),
    "created_at": _l("Created at"),
    "creates_duty": _l("Creates duties"),
    "delegate_name": _l("Delegate"),
    "department_kinds": _l("Department kinds"),
    "department": _l("Department"),
    "department_id": _l("Department"),
    "detail": _l("Details"),
    "display_name": _l("Name"),
    "doc_number": _l("Document number"),
    "due_date": _l("Due date"),
    "effective_date": _l("Effective date"),
    "effective_from": _l("Effective from"),
    "effective_until": _l("Effective until"),
    "eligibility": _l("Eligibility"),
    "families_reached": _l("Families reached"),
    "festivals": _l("Festivals"),
    "filename": _l("File name"),
    "finalised_at": _l("Finalised at"),
    "frequency": _l("Frequency"),
    "funding_note": _l("Note on funding"),
    "funding_split": _l("Funding split"),
    "hours_per_month": _l("Hours per month"),
    "inferred": _l("Inferred values and why"),
    "issued_on": _l("Issued on"),
    "issuers": _l("Issuers"),
    "key": _l("Key"),
    "kind": _l("Kind"),
    "last_login_at": _l("Last sign-in"),
    "last_reopen_reason": _l("Reason for the last reopening"),
    "max_quantity": _l("Maximum quantity"),
    "max_quantity_unit": _l("Unit of the maximum"),
    "measure_number": _l("Measure number"),
    "meeting_date": _l("Meeting date"),
    "member_department_ids": _l("Member departments"),
    "member_department_keys": _l("Member departments"),
    "must_change_password": _l("Must change password"),
    "name": _l("Name"),
    "narrative": _l("Work done"),
    "not_delivered": _l("Not delivered"),
    "note": _l("Note"),
    "number": _l("Number"),
    "period": _l("Half-year"),
    "place": _l("Place"),
    "position": _l("Position"),
    "progress_note": _l("Progress note"),
    "recorded_at": _l("Recorded at"),
    "reopen_count": _l("Times reopened"),
    "review_note": _l("Review comment"),
    "reviewed_at": _l("Reviewed at"),
    "role": _l("Role"),
    "sequence": _l("Sequence"),
    "sha256": _l("Checksum (SHA-256)"),
    "sign_off_statement": _l("Sign-off statement"),
    "size": _l("Size (bytes)"),
    "sort_order": _l("Order"),
    "source": _l("Source"),
    "start_time": _l("Start time"),
    "status": _l("Status"),
    "storage_key": _l("Storage key"),
    "submitted_at": _l("Submitted at"),
    "supersedes": _l("Supersedes"),
    "text": _l("Text"),
    "title": _l("Title"),
    "unit": _l("Unit"),
    "updated_at": _l("Updated at"),
    "uploaded_at": _l("Uploaded at"),
    "username": _l("Username"),
    "work_date": _l("Date of the work"),
    "year": _l("Year"),
    "adopted_at": _l("Adopted at"),
    "adopted_by": _l("Adopted by"),
    "agenda_circulated_at": _l("Agenda circulated at"),
    "clause": _l("Clause type"),
    "funding_split_applies_to": _l("Funding split applies to"),
    "in_force_before": _l("In force before"),
    "lead_from_document": _l("Lead from the document"),
    "name_en": _l("English name"),
    "posted_at": _l("Posted at"),
    "posted_by_name": _l("Posted by"),
    "status_changed_at": _l("Status changed at"),
    "withdrawn_at": _l("Withdrawn at"),
    # related records (shown by their name or title)
    "agenda": _l("Agenda items"),
    "benefit": _l("Benefit standard"),
    "benefits": _l("Benefit standards"),
    "closed_by": _l("Closed by"),
    "decision": _l("Decision"),
    "document": _l("Policy document"),
    "duty": _l("Duty"),
    "entries": _l("Progress entries"),
    "entry": _l("Progress entry"),
    "evidence": _l("Evidence files"),
    "measure": _l("Measure"),
    "measures": _l("Measures"),
    "meeting": _l("Meeting"),
    "office_department": _l("Office department"),
    "responsibilities": _l("Responsibilities"),
    "values": _l("Amounts"),
    "version": _l("Policy version"),
    "versions": _l("Policy versions"),
}

#: Bookkeeping columns no person needs in a table (still in the record's details).
HIDDEN_IN_LISTS = ("row_version", "tenant_id", "id")

#: Columns no person reads, in tables or details: identifiers (records are shown by their
#: name through the relationship), idempotency keys, storage paths, the generator's tag of
#: an agenda item, and the policy file's department key. The policy's JSON data (the
#: `inferred:` reasons, member departments, department kinds) is not here: JSON stays out of
#: tables and reads as text in details and exports (`portal.admin.formatters`).
HIDDEN_EVERYWHERE = (
    "row_version",
    "tenant_id",
    "id",
    "request_key",
    "storage_key",
    "broadcast_id",
    "lead_department_key",
    "source",
    "audience",
    "kind_code",
    "locale",
    "session_version",
    "password_history",
)


def code_tables() -> dict[str, dict[str, tuple[str, str]]]:
    """String columns holding a policy-vocabulary code → the vocabulary's table."""
    from portal.policy import labels as pl

    return {
        "category": pl.CATEGORY,
        "unit": pl.UNIT,
        "frequency": pl.FREQUENCY,
        "max_quantity_unit": pl.MAX_QUANTITY_UNIT,
        "funding_split_applies_to": pl.SPLIT_APPLIES_TO,
        "cadence": pl.CADENCE,
        "clause": pl.CLAUSE,
    }


def related_label(obj: object) -> str:
    """A related record as a person reads it: its name, title or number, never a repr."""
    for attr in ("display_name", "title", "name", "filename", "number", "doc_number", "text"):
        value = getattr(obj, attr, None)
        if value:
            text = str(value)
            return text if len(text) <= 60 else text[:59] + "…"
    return ""


VERSION_STATUS_LABELS = {"in_force": _l("in force"), "draft": _l("draft")}


@cache
def enum_labels() -> dict[type, dict[Any, Any]]:
    """Each enum class → its labels, taken from the domain that owns it (looked up once)."""
    from portal import ui
    from portal.auth.models import Role
    from portal.tenancy.models import TenantStatus

    found: dict[type, dict[Any, Any]] = {Role: dict(ui.ROLE_LABELS)}
    found[TenantStatus] = dict(ui.TENANT_STATUS_LABELS)
    try:
        from portal.duties import forms as duty_forms
        from portal.duties import views as duty_views
        from portal.duties.models import Assessment, DutyStatus
        from portal.policy.models import ResponsibilityRole, VersionStatus

        found[DutyStatus] = dict(getattr(duty_views, "STATUS_LABELS", {}))
        found[ResponsibilityRole] = dict(getattr(duty_views, "ROLE_LABELS", {}))
        found[Assessment] = dict(getattr(duty_forms, "ASSESSMENT_LABELS", {}))
        found[VersionStatus] = dict(VERSION_STATUS_LABELS)
    except ImportError:  # pragma: no cover - a domain renamed its labels: values stay raw
        pass
    try:
        from portal.meetings import models as mm
        from portal.meetings import views as mv

        for cls_name, labels_name in (
            ("MeetingKind", "KIND_LABELS"),
            ("Attendance", "ATTENDANCE_LABELS"),
            ("MinutesStatus", "MINUTES_LABELS"),
            ("ReportStatus", "REPORT_LABELS"),
            ("ActionStatus", "ACTION_LABELS"),
            ("MeetingStatus", "MEETING_STATUS_LABELS"),
        ):
            cls = getattr(mm, cls_name, None)
            if cls is not None:
                found[cls] = dict(getattr(mv, labels_name, {}))
    except ImportError:  # pragma: no cover
        pass
    return found


def enum_label(value: Any) -> str:
    """The user's-language label of an enum value (the value itself when none is known)."""
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        labels = enum_labels().get(type(value), {})
        label = labels.get(value, labels.get(value.value))
        return str(label) if label is not None else str(value.value)
    return str(value)
