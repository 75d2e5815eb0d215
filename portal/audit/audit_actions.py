"""The audit domain's own vocabulary: row events of any record, exports, refusals, and the
labels of fields every model shares."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from portal.audit.vocabulary import (
    RECORDS,
    register_actions,
    register_module,
    register_named,
    register_record_type,
    value_label,
)
from portal.kernel.signals import list_exported
from portal.tenancy.models import STATUS_LABELS as TENANT_STATUS_LABELS
from portal.tenancy.models import Department, Tenant


def _export_summary(data: dict[str, Any], entity_type: str) -> str:
    """Audit exports count rows; a meeting's export names the document."""
    if "rows" in data and "format" in data:
        return str(_l("%(rows)s rows (%(format)s)", rows=data["rows"], format=data["format"]))
    if "kind" in data:
        return str(value_label(entity_type, "kind", data["kind"]))
    if "format" in data:
        return str(data["format"]).upper()
    return ""


register_module(RECORDS, _l("Record changes"), order=10)
register_module("audit", _l("Audit trail"), order=90)

register_actions(
    RECORDS,
    {
        "create": _l("Record created"),
        "update": _l("Record changed"),
        "delete": _l("Record deleted"),
    },
)
register_actions(
    "audit",
    {
        "export": (_l("Exported"), _export_summary),
        "access_denied": (_l("Access refused"), _l("Refused (%(status)s)")),
    },
)

#: Fields many models share (a model's own labels come first).
register_record_type(
    "*",
    _l("Record"),
    fields={
        "name": _l("Name"),
        "title": _l("Title"),
        "status": _l("Status"),
        "note": _l("Note"),
        "reason": _l("Reason"),
        "created_at": _l("Created at"),
        "updated_at": _l("Updated at"),
        "row_version": _l("Version"),
        "department_id": _l("Department"),
        "tenant_id": _l("District"),
        "period": _l("Period"),
        "due_date": _l("Due date"),
        "position": _l("Position"),
        "body": _l("Text"),
        "active": _l("Active"),
        "number": _l("Number"),
        "role": _l("Role"),
        "source": _l("Source"),
        "sort_order": _l("Order"),
        "action": _l("Action"),
        "at": _l("Time"),
        "user_id": _l("User"),
        "actor_id": _l("Person"),
        "author_id": _l("Author"),
        "created_by_id": _l("Created by"),
        "submitted_at": _l("Submitted at"),
        "submitted_by_id": _l("Submitted by"),
        "reviewed_by_id": _l("Reviewed by"),
        "closed_at": _l("Closed at"),
        "closed_by_id": _l("Closed by"),
        "circulated_at": _l("Circulated at"),
        "agenda_circulated_at": _l("Agenda circulated at"),
        "finalised_at": _l("Finalised at"),
        "finalised_by_id": _l("Finalised by"),
        "uploaded_at": _l("Uploaded at"),
        "uploaded_by_id": _l("Uploaded by"),
        "recorded_at": _l("Recorded at"),
        "expires_at": _l("Expires at"),
        "revoked_at": _l("Revoked at"),
        "last_used_at": _l("Last used at"),
        "last_login_at": _l("Last sign-in"),
        "meeting_id": _l("Joint meeting"),
        "decision_id": _l("Decision"),
        "measure_id": _l("Measure"),
        "duty_id": _l("Duty"),
        "entry_id": _l("Progress entry"),
        "benefit_id": _l("Benefit standard"),
        "version_id": _l("Policy version"),
        "document_id": _l("Policy document"),
        "office_department_id": _l("Office department"),
        "member_department_ids": _l("Member departments"),
        "chief_convener": _l("Chief convener"),
        "conveners": _l("Conveners"),
        "cadence": _l("Cadence"),
        "progress_note": _l("Progress note"),
        "closing_note": _l("Closing note"),
        "reopen_count": _l("Times reopened"),
        "last_reopen_reason": _l("Reason for reopening"),
        "filename": _l("File name"),
        "content_type": _l("File type"),
        "size": _l("Size (bytes)"),
        "sha256": _l("Checksum (SHA-256)"),
        "storage_key": _l("Stored as"),
        "effective_date": _l("Effective date"),
        "effective_until": _l("Effective until"),
        "issued_on": _l("Issued on"),
        "issuers": _l("Issued by"),
        "supersedes": _l("Supersedes"),
        "creates_duty": _l("Creates duties"),
        "year": _l("Year"),
        "sequence": _l("Sequence"),
        "prefix": _l("Token prefix"),
        "token_hash": _l("Token"),
        "code": _l("Code"),
        "name_zh": _l("Chinese name"),
        "name_en": _l("English name"),
        "level": _l("Level"),
        "province": _l("Province"),
        "unit": _l("Unit"),
        "frequency": _l("Frequency"),
        "festivals": _l("Festivals"),
        "amount_is_floor": _l("Amount is a minimum"),
        "amount_note": _l("Note on the amount"),
        "max_quantity": _l("Maximum quantity"),
        "max_quantity_unit": _l("Unit of the maximum"),
        "hours_per_month": _l("Hours per month"),
        "eligibility": _l("Eligibility"),
        "funding_split": _l("Funding split"),
        "funding_note": _l("Note on funding"),
        # explicit events' data
        "format": _l("Format"),
        "rows": _l("Rows"),
        "filter": _l("Filter"),
        "files": _l("Files"),
        "endpoint": _l("Page function"),
        "username_tried": _l("User name tried"),
        "statement": _l("Statement"),
        "assessment": _l("Assessment"),
        "duties": _l("Duties"),
        "entries": _l("Progress entries"),
        "departments": _l("Departments"),
        "measures": _l("Measures"),
        "created": _l("Number created"),
        "updated": _l("Number updated"),
        "removed": _l("Number removed"),
        "unchanged": _l("Number unchanged"),
        "kept_signed": _l("Signed off, left unchanged"),
        "warnings": _l("Warnings"),
        "policy_version": _l("Policy version"),
        "lead": _l("Lead account"),
        "temporary_password": _l("Temporary password"),
        "expired": _l("Retention expired"),
        "kept": _l("Left unchanged"),
    },
)
# The districts layer sits below audit: its record types are declared here.
register_named(
    Tenant,
    _l("District"),
    Tenant.name,
    find=(Tenant.name, Tenant.slug),
    fields={"slug": _l("Short name"), "name": _l("Name"), "status_changed_at": _l("Status since")},
    values={"status": TENANT_STATUS_LABELS},
)
register_named(
    Department,
    _l("Department"),
    Department.name,
    find=(Department.name,),
    fields={"key": _l("Key"), "kind_code": _l("Kind")},
)
register_record_type("DepartmentKind", _l("Department kind"))
register_record_type("AuditEvent", _l("Audit trail"))
register_record_type("list", _l("List page"))
register_record_type("url", _l("Page"))


@list_exported.connect
def _record_list_export(endpoint: str, rows: int = 0, filters: dict | None = None) -> None:
    """Every list's Excel export (portal/listing.py) is an "export" event of its district."""
    from portal.audit import trail
    from portal.extensions import db

    trail.record(
        db.session,
        "export",
        entity_type="list",
        entity_id=endpoint,
        summary=endpoint,
        data={"format": "xlsx", "rows": rows, "list": endpoint, "filter": filters or {}},
    )
