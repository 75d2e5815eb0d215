"""The register's audit vocabulary (registrations only; read by `portal.audit`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.audit.vocabulary import (
    names_from,
    register_actions,
    register_module,
    register_named,
    register_record_type,
)
from portal.register.models import Area, Household

# The labels of the register's codes, one translation of each: the audit viewer, the
# register's pages and exports (`portal.register.views`) and the benefits' reasons read
# these. Keyed by the codes; the models' StrEnum members find them alike.
STATUS_LABELS = {"registered": _l("Registered"), "exited": _l("Exited")}
EXIT_LABELS = {
    "death": _l("Death"),
    "rebirth_adoption": _l("Re-birth or adoption"),
    "moved_away": _l("Moved away"),
    "no_longer_eligible": _l("No longer eligible"),
}
CATEGORY_LABELS = {
    "bereaved": _l("Bereaved (only child died)"),
    "disabled_child": _l("Only child disabled"),
    "surgery_complication": _l("Surgery complication"),
}
RELATIONSHIP_LABELS = {
    "principal": _l("Self"),
    "spouse": _l("Spouse"),
    "child": _l("Child"),
    "other": _l("Other"),
}
REQUEST_STATUS_LABELS = {
    "pending": _l("Pending"),
    "confirmed": _l("Confirmed"),
    "returned": _l("Returned"),
}
REQUEST_KIND_LABELS = {"enrol": _l("Enrolment"), "change": _l("Change"), "exit": _l("Exit")}
AGE_BAND_LABELS = {
    "under49": _l("Woman under 49"),
    "49to59": _l("Woman 49–59"),
    "60to69": _l("Woman 60–69"),
    "70plus": _l("Woman 70 or older"),
}
# A household's fields by name: the trail's field labels, and the changes a request lists.
HOUSEHOLD_FIELDS = {
    "town_id": _l("Town"),
    "village_id": _l("Village"),
    "category": _l("Category"),
    "address": _l("Home address"),
    "head_name": _l("Head of household"),
    "woman_birth_date": _l("Woman's date of birth"),
    "exit_reason": _l("Exit reason"),
    "exit_date": _l("Exit date"),
    "registered_on": _l("Registered on"),
    "status": _l("Status"),
    "level": _l("Grade"),
}
CHANGE_LABELS = {"enrolled": _l("Enrolled as number"), **HOUSEHOLD_FIELDS}

register_module("register", _l("Families register"), order=45)
register_actions(
    "register",
    {
        "pii_reveal": _l("Full personal information viewed"),
        "register_import": _l("Register sheet imported"),
        "register_batch_confirmed": _l("Import batch confirmed"),
        "register_demo_loaded": _l("Demo register loaded"),
    },
)

register_named(
    Area,
    _l("Town or village"),
    Area.name,
    find=(Area.name,),
    fields={"kind": _l("Kind"), "parent_id": _l("Town")},
)
register_record_type(
    "Household",
    _l("Household"),
    fields=HOUSEHOLD_FIELDS,
    values={"status": STATUS_LABELS, "exit_reason": EXIT_LABELS, "category": CATEGORY_LABELS},
    names=names_from(Household, lambda h: h.address or "", Household.address),
)
register_record_type(
    "Person",
    _l("Family member"),
    fields={
        "household_id": _l("Household"),
        "relationship_": _l("Relationship"),
        "id_number": _l("Resident ID number"),
        "id_index": _l("ID search index"),
        "birth_date": _l("Date of birth"),
        "gender": _l("Gender"),
        "phone": _l("Phone"),
        "phone_index": _l("Phone search index"),
        "alive": _l("Alive"),
        "death_date": _l("Date of death"),
        "disability_grade": _l("Disability grade"),
    },
    values={"relationship_": RELATIONSHIP_LABELS},
)
register_record_type(
    "ChangeRequest",
    _l("Change request"),
    fields={
        "kind": _l("Kind"),
        "household_id": _l("Household"),
        "town_id": _l("Town"),
        "summary": _l("Change summary"),
        "payload": _l("Proposed data"),
        "evidence_note": _l("Supporting documents"),
        "batch": _l("Import batch"),
        "proposed_by_id": _l("Proposed by"),
        "proposed_by_name": _l("Proposed by"),
        "proposed_at": _l("Proposed at"),
        "decided_by_id": _l("Decided by"),
        "decided_by_name": _l("Decided by"),
        "decided_at": _l("Decided at"),
        "changes": _l("Changes"),
        "status": _l("Status"),
        # the parts of `changes` (what a confirmed request changed on the household)
        "enrolled": _l("Enrolled as number"),
        "level": _l("Grade"),
        "village_id": _l("Village"),
    },
    values={
        "status": {**REQUEST_STATUS_LABELS, **STATUS_LABELS},
        "kind": REQUEST_KIND_LABELS,
        "exit_reason": EXIT_LABELS,
    },
)
register_record_type("ChangeRequestBatch", _l("Import batch"))
register_record_type("OfficerTown", _l("Town officer's town"), fields={"town_id": _l("Town")})
register_record_type(
    "ContactVillage", _l("Village contact's village"), fields={"village_id": _l("Village")}
)
register_record_type(
    "HouseholdContact", _l("Household contact"), fields={"household_id": _l("Household")}
)
register_record_type(
    "ImportMapping", _l("Import column mapping"), fields={"mapping": _l("Column mapping")}
)
