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


def _import_mapping(ctx: Ctx) -> Any:
    from portal.register.models import ImportMapping

    return ImportMapping(name=f"coverage-{uuid.uuid4().hex[:8]}", mapping={"name": "姓名"})


ROUTES: dict[str, Exercise | Listed] = {
    "register.export_full": Listed(
        "export Household (district chain) with masked=false and the reason, actor the "
        "eligibility officer; no reason: no event and no file",
        test="tests/register/test_masking.py::test_full_export_needs_the_grant_and_a_reason",
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
        "upload: no event; preview: create/update ImportMapping; import: create ChangeRequest "
        "per valid row + one register_import event with the counts",
        test="tests/register/test_import.py::test_import_preview_reject_download_and_confirm",
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
    "ImportMapping": _import_mapping,
    "OfficerTown": _officer_town,
}
