"""Audit coverage cases of the care domain (collected by tests/audit/test_coverage.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from tests.audit.coverage import Ctx, Exercise, Listed, stored_file


def _contract(ctx: Ctx) -> Any:
    """A contract for a member who has none yet (one per person)."""
    from portal.care.models import DoctorContract
    from portal.register.models import Person

    person = ctx.session.execute(
        sa.select(Person).where(~Person.id.in_(sa.select(DoctorContract.person_id))).limit(1)
    ).scalar_one()
    return DoctorContract(
        household_id=person.household_id,
        person_id=person.id,
        doctor="覆盖测试医生",
        institution="社区卫生服务中心",
        signed_on=dt.date(2026, 3, 1),
    )


def _checkup(ctx: Ctx) -> Any:
    from portal.care.models import Checkup

    person = ctx.first("Person")
    return Checkup(
        household_id=person.household_id, person_id=person.id, done_on=dt.date(2026, 5, 1)
    )


def _photo(ctx: Ctx) -> Any:
    from portal.care.models import VisitPhoto

    visit = ctx.first("Visit")
    return VisitPhoto(
        visit_id=visit.id,
        household_id=visit.household_id,
        **stored_file("visit.png", "image/png", 72, f"{visit.tenant_id}/care/00/coverage"),
    )


ROUTES: dict[str, Exercise | Listed] = {
    "care.record_visit": Listed(
        "create Visit (district chain) and a VisitPhoto per photo, actor the village contact "
        "or town officer",
        test="tests/care/test_views.py::test_village_contact_sees_only_their_households_and_records_a_visit",
    ),
}

DOWNLOADS: dict[str, Exercise | Listed] = {
    "care.roster_export": Listed(
        "care_roster_exported Contact (district chain) with the row count and masked=true",
        test="tests/care/test_views.py::test_lead_dashboard_roster_export_and_drill",
    ),
}

MODEL_FACTORIES: dict[str, Callable[[Ctx], Any]] = {
    "DoctorContract": _contract,
    "Checkup": _checkup,
    "VisitPhoto": _photo,
}

ROUTES.update(
    {
        "care.contacts": Listed(
            "create Contact (district chain; phone masked, blind index in clear), actor the "
            "town officer",
            test="tests/care/test_views.py::test_town_officer_adds_assigns_and_reassigns_keeping_history",
        ),
        "care.deactivate_contact": Listed(
            "update Contact active=false + update Assignment ended_on/end_reason for each open "
            "one (and delete HouseholdContact of a linked account), actor the town officer",
            test="tests/care/test_operations.py",
        ),
        "care.assign": Listed(
            "create Assignment (+ HouseholdContact for a linked account), actor the town officer",
            test="tests/care/test_operations.py",
        ),
        "care.reassign": Listed(
            "update Assignment ended_on/end_reason + create Assignment, actor the town officer",
            test="tests/care/test_views.py::test_town_officer_adds_assigns_and_reassigns_keeping_history",
        ),
        "care.record_contract": Listed(
            "create or update DoctorContract (one per member; a refusal with its reason), "
            "actor the town officer or the eligibility officer",
            test="tests/care/test_health_forms.py::test_town_officer_signs_edits_and_declines_a_contract",
        ),
        "meetings.followup_action": Listed(
            "create ActionItem (one per department) with visit_id, actor the lead",
            test="tests/care/test_followup_actions.py",
        ),
        "meetings.followup_link": Listed(
            "update ActionItem visit_id, actor the lead",
            test="tests/care/test_followup_actions.py",
        ),
        "care.delete_checkup": Listed(
            "checkup_deleted Checkup with the reason, the member and the date + delete "
            "Checkup (its before-values), actor the town officer or the eligibility officer",
            test="tests/care/test_health_forms.py::test_checkup_deleted_with_reason_after_confirmation",
        ),
        "care.accounts": Listed(
            "account_created User (district chain) + create ContactVillage; with a contact "
            "person, update Contact user_id + create HouseholdContact per household it holds; "
            "actor the town officer",
            test="tests/care/test_accounts.py::test_town_officer_creates_an_account_for_a_contact_person",
        ),
        "care.account_active": Listed(
            "account_deactivated / account_reactivated User (district chain), actor the town "
            "officer",
            test="tests/care/test_accounts.py::test_deactivate_and_reset_end_the_contacts_sessions",
        ),
        "care.account_reset": Listed(
            "password_reset User (district chain), actor the town officer",
            test="tests/care/test_accounts.py::test_deactivate_and_reset_end_the_contacts_sessions",
        ),
        "api.care_record_visit": Listed(
            "create Visit (district chain), actor the token's village contact or town officer",
            test="tests/care/test_api.py::test_record_a_visit_with_the_households_version",
        ),
        "care.record_checkup": Listed(
            "create Checkup, or update it (a correction), actor the town officer or the "
            "eligibility officer",
            test="tests/care/test_health_forms.py::test_checkup_recorded_corrected_and_refused",
        ),
    }
)

NOT_AUDITED: dict[str, str] = {
    name: "derived rows of the pre-aggregated coverage figures, rewritten set-based by the "
    "care writes (and register changes) whose own rows are audited; `portal care "
    "repair-status` recomputes them from those rows"
    for name in ("HouseholdCareStatus", "PersonCareStatus", "VillageCareFigures")
}
NOT_AUDITED["PendingHouseholdStatus"] = (
    "a mark that a visit (audited) left a household's derived status row behind; the next "
    "read of the figures settles and deletes it"
)
