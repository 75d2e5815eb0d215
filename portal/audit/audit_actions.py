"""The audit domain's own vocabulary: row events of any record, exports, refusals, and the
labels of fields every model shares."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from portal.audit.vocabulary import (
    RECORDS,
    register_actions,
    register_module,
    register_record_type,
    value_label,
)


def _export_summary(data: dict[str, Any], entity_type: str) -> str:
    """Audit exports count rows; a meeting's export names the document."""
    if "rows" in data and "format" in data:
        return str(_l("%(rows)s rows (%(format)s)", rows=data["rows"], format=data["format"]))
    if "kind" in data:
        return str(value_label(entity_type, "kind", data["kind"]))
    return ""


register_module(RECORDS, _l("Record changes"), order=10)
register_module("audit", _l("Audit trail"), order=90)

register_actions(
    RECORDS,
    {
        "create": _l("Created"),
        "update": _l("Changed"),
        "delete": _l("Deleted"),
    },
)
register_actions(
    "audit",
    {
        "export": (_l("Exported"), _export_summary),
        "access_denied": (_l("Access refused"), _l("Refused (%(status)s): %(text)s")),
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
    },
)
register_record_type("AuditEvent", _l("Audit trail"))
register_record_type("url", _l("Page"))
