"""The care domain's audit vocabulary (registrations only; read by `portal.audit`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.audit.vocabulary import (
    add_fields,
    find_in,
    names_from,
    register_actions,
    register_module,
    register_record_type,
)
from portal.care.models import Contact
from portal.policy import audit_actions as _policy_vocabulary  # noqa: F401 - PolicyVersion first

register_module("care", _l("Care and contacts"), order=46)
register_actions(
    "care",
    {
        "care_demo_loaded": _l("Demo care records loaded"),
        "care_roster_exported": _l("Contact roster exported"),
        "checkup_deleted": _l("Check-up record deleted (with reason)"),
    },
)
register_record_type(
    "Contact",
    _l("Contact person"),
    fields={
        "name": _l("Name"),
        "unit": _l("Unit"),
        "position": _l("Job title"),
        "role": _l("Contact role"),
        "phone": _l("Phone"),
        "phone_index": _l("Phone search index"),
        "town_id": _l("Town"),
        "user_id": _l("Account"),
        "active": _l("Active"),
    },
    names=names_from(Contact, lambda c: c.name, Contact.name),
    find=find_in(Contact, Contact.name),
)
register_record_type(
    "Assignment",
    _l("Contact assignment"),
    fields={
        "contact_id": _l("Contact person"),
        "household_id": _l("Household"),
        "started_on": _l("From"),
        "ended_on": _l("Until"),
        "end_reason": _l("Reason"),
    },
)
register_record_type(
    "DoctorContract",
    _l("Family-doctor contract"),
    fields={
        "household_id": _l("Household"),
        "person_id": _l("Family member"),
        "doctor": _l("Family doctor"),
        "institution": _l("Institution"),
        "signed_on": _l("Signed on"),
        "renewed_on": _l("Renewed on"),
        "declined": _l("Declined"),
        "declined_reason": _l("Reason for declining"),
    },
)
register_record_type(
    "Checkup",
    _l("Check-up"),
    fields={
        "household_id": _l("Household"),
        "person_id": _l("Family member"),
        "done_on": _l("Date"),
        "institution": _l("Institution"),
        "note": _l("Note"),
    },
)
register_record_type(
    "Visit",
    _l("Visit"),
    fields={
        "household_id": _l("Household"),
        "visited_on": _l("Date"),
        "kind": _l("Kind"),
        "festival": _l("Festival"),
        "festival_year": _l("Year"),
        "contact_id": _l("Contact person"),
        "visitor_name": _l("Visited by"),
        "companions": _l("With"),
        "findings": _l("Findings"),
        "follow_up": _l("Follow-up needed"),
        "follow_up_note": _l("Follow-up"),
        "recorded_by_id": _l("Recorded by"),
    },
)
register_record_type(
    "VisitPhoto",
    _l("Visit photo"),
    fields={
        "visit_id": _l("Visit"),
        "household_id": _l("Household"),
        "filename": _l("File name"),
        "size": _l("Size"),
    },
)
# The policy file's care: section is a column of the policy version (the policy domain
# cannot name care's vocabulary; care adds the label).
add_fields("PolicyVersion", {"care": _l("Care")})
