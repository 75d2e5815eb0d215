"""Audit coverage cases of the register (collected by tests/audit/test_coverage.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from tests.audit.coverage import Ctx, Exercise, Listed


def _household_contact(ctx: Ctx) -> Any:
    from portal.register.models import HouseholdContact

    return HouseholdContact(
        user_id=ctx.first("HouseholdContact").user_id, household_id=ctx.make("Household").id
    )


def _officer_town(ctx: Ctx) -> Any:
    from portal.register.models import OfficerTown

    return OfficerTown(user_id=ctx.make("User").id, town_id=ctx.first("OfficerTown").town_id)


def _contact_village(ctx: Ctx) -> Any:
    from portal.register.models import ContactVillage

    return ContactVillage(
        user_id=ctx.make("User").id, village_id=ctx.first("ContactVillage").village_id
    )


def _import_mapping(ctx: Ctx) -> Any:
    from portal.register.models import ImportMapping

    return ImportMapping(name=f"coverage-{uuid.uuid4().hex[:8]}", mapping={"name": "姓名"})


ROUTES: dict[str, Exercise | Listed] = {
    "register.export_full": Listed(
        "export Household (district chain) with masked=false and the reason, actor the "
        "eligibility officer; no reason: no event and no file",
        test="tests/register/test_masking.py::test_full_export_needs_the_grant_and_a_reason",
    ),
    "api.households_search": Listed(
        "no event: a read, POSTed so that a resident ID number stays out of the URL",
        test="tests/register/test_id_in_url.py",
    ),
    "register.search": Listed("no event: the typed search becomes a blind index in a redirect"),
    "register.reveal": Listed(
        "pii_reveal Person (district chain) with the reason, the masked ID and its blind "
        "index, actor the user",
        test="tests/register/test_masking.py::test_reveal_needs_a_reason_shows_once_and_is_audited",
    ),
    "register.propose": Listed(
        "create ChangeRequest (district chain; ID and phone numbers sealed), actor the town officer",
        test="tests/register/test_operations.py",
    ),
    "register.propose_change": Listed(
        "create ChangeRequest kind change (district chain), actor the town officer",
        test="tests/register/test_operations.py::test_exit_and_change_through_the_pages",
    ),
    "register.propose_exit": Listed(
        "create ChangeRequest kind exit (district chain), actor the town officer",
        test="tests/register/test_operations.py::test_exit_and_change_through_the_pages",
    ),
    "register.decide": Listed(
        "update ChangeRequest + create/update Household and Person rows (confirm; numbers "
        "masked, blind index in clear), actor the eligibility officer",
        test="tests/register/test_storage.py::test_no_audit_event_holds_a_plaintext_number",
    ),
    "register.confirm_batch": Listed(
        "as register.decide for each request of the batch + register_batch_confirmed",
        test="tests/register/test_import.py::test_import_preview_reject_download_and_confirm",
    ),
    "register.areas": Listed(
        "create Area per new town/village, actor the lead", test="tests/register/test_areas.py"
    ),
    "register.import_sheet": Listed(
        "upload: no event; preview: create/update ImportMapping; import: one register_import "
        "event with the counts for the whole batch (its change requests are written set-based)",
        test="tests/register/test_import.py::test_import_preview_reject_download_and_confirm",
    ),
    "register.bind_officer": Listed(
        "create or update OfficerTown (district chain), actor the lead",
        test="tests/register/test_accounts.py::test_lead_binds_and_moves_a_town_officer",
    ),
    "register.create_contact": Listed(
        "account_created User (district chain) + create ContactVillage, actor the lead or "
        "town officer",
        test="tests/register/test_accounts.py::test_town_officer_manages_contacts_of_their_own_town",
    ),
    "register.reassign_contact": Listed(
        "update ContactVillage + delete HouseholdContact per assignment outside the new "
        "village, actor the lead or town officer",
        test="tests/register/test_accounts.py::test_town_officer_manages_contacts_of_their_own_town",
    ),
    "register.contact_active": Listed(
        "account_deactivated / account_reactivated User (district chain)",
        test="tests/register/test_accounts.py::test_town_officer_manages_contacts_of_their_own_town",
    ),
    "register.contact_households": Listed(
        "create / delete HouseholdContact per household added or removed",
        test="tests/register/test_accounts.py::test_town_officer_manages_contacts_of_their_own_town",
    ),
}

DOWNLOADS: dict[str, Exercise | Listed] = {
    "register.export": Listed(
        "export Household (district chain) with its filters, row count and masked=true",
        test="tests/register/test_masking.py::test_export_is_masked_and_audited",
    ),
}

MODEL_FACTORIES: dict[str, Callable[[Ctx], Any]] = {
    "HouseholdContact": _household_contact,
    "ContactVillage": _contact_village,
    "ImportMapping": _import_mapping,
    "OfficerTown": _officer_town,
}
