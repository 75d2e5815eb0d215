"""The benefit ledger's audit vocabulary (registrations only; read by `portal.audit`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.audit.vocabulary import (
    add_fields,
    register_actions,
    register_module,
    register_record_type,
)

register_module("benefits", _l("Benefits"), order=47)
register_actions(
    "benefits",
    {
        "benefit_cycle_computed": _l("Payment cycle computed"),
        "benefit_cycle_reviewed": _l("Payment cycle reviewed"),
        "benefit_cycle_approved": _l("Payment cycle approved"),
        "benefit_bank_file_exported": _l("Bank file exported"),
        "benefit_results_imported": _l("Bank results imported"),
        "benefit_funding_exported": _l("Funding totals exported"),
        "benefit_demo_loaded": _l("Demo payment cycles loaded"),
    },
)

register_record_type(
    "PaymentCycle",
    _l("Payment cycle"),
    fields={
        "period": _l("Month"),
        "status": _l("Status"),
        "policy_version_id": _l("Policy version"),
        "input_hash": _l("Input hash"),
        "lines_hash": _l("Lines hash"),
        "total": _l("Total"),
        "line_count": _l("Lines"),
        "created_by_name": _l("Created by"),
        "created_at": _l("Created at"),
        "computed_by_id": _l("Computed by"),
        "computed_by_name": _l("Computed by"),
        "computed_at": _l("Computed at"),
        "reviewed_by_id": _l("Reviewed by"),
        "reviewed_by_name": _l("Reviewed by"),
        "reviewed_at": _l("Reviewed at"),
        "approved_by_id": _l("Approved by"),
        "approved_by_name": _l("Approved by"),
        "approved_at": _l("Approved at"),
        "exported_at": _l("Exported at"),
        "closed_at": _l("Closed at"),
    },
)
register_record_type(
    "Claim",
    _l("Claim"),
    fields={
        "standard_key": _l("Benefit standard"),
        "standard_name": _l("Benefit standard"),
        "household_id": _l("Household"),
        "person_id": _l("Family member"),
        "town_id": _l("Town"),
        "start": _l("From"),
        "end": _l("To"),
        "quantity": _l("Accepted"),
        "asked": _l("Claimed"),
        "amount": _l("Amount"),
        "status": _l("Status"),
        "reason": _l("Reason"),
        "evidence_note": _l("Evidence"),
        "entered_by_name": _l("Entered by"),
        "entered_at": _l("Entered at"),
        "cycle_id": _l("Payment cycle"),
    },
)
register_record_type(
    "PayeeAccount",
    _l("Bank account"),
    fields={
        "household_id": _l("Household"),
        "person_id": _l("Family member"),
        "holder": _l("Account holder"),
        "bank": _l("Bank"),
        "account": _l("Bank account number"),
        "account_index": _l("Account search index"),
        "updated_at": _l("Updated at"),
    },
)
register_record_type(
    "BankLayout",
    _l("Bank file layout"),
    fields={
        "columns": _l("Columns and headings"),
        "updated_by_name": _l("Updated by"),
        "updated_at": _l("Updated at"),
    },
)
# the policy's record type first (this module may be imported before portal.policy)
import portal.policy.audit_actions  # noqa: E402, F401

add_fields("BenefitStandard", {"entitlement": _l("Entitlement rules")})
