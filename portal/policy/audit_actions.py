"""The policy domain's audit vocabulary (registrations only; read by `portal.audit`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.audit import vocabulary
from portal.policy.models import (
    BenefitStandard,
    BenefitValue,
    Measure,
    MeetingArrangement,
    PolicyDocument,
    PolicyVersion,
)

vocabulary.register_module("policy", _l("Policy"), order=35)
vocabulary.register_actions("policy", {"policy_exported": _l("Policy exported")})


vocabulary.register_named(
    PolicyDocument, _l("Policy document"), PolicyDocument.title, find=(PolicyDocument.title,)
)
vocabulary.register_named(
    PolicyVersion,
    _l("Policy version"),
    PolicyVersion.title,
    PolicyVersion.doc_number,
    find=(PolicyVersion.title, PolicyVersion.doc_number),
    fields={"doc_number": _l("Document number"), "effective_from": _l("Effective from")},
)
vocabulary.register_named(
    Measure,
    _l("Measure"),
    Measure.number,
    Measure.title,
    find=(Measure.title,),
    fields={"number": _l("Measure number"), "text": _l("Text"), "category": _l("Category")},
)
vocabulary.register_record_type("MeasureResponsibility", _l("Responsibility"))
vocabulary.register_named(
    BenefitStandard, _l("Benefit standard"), BenefitStandard.name, find=(BenefitStandard.name,)
)
vocabulary.register_named(
    BenefitValue,
    _l("Benefit amount"),
    BenefitStandard.name,
    BenefitValue.amount,
    fields={"amount": _l("Amount"), "effective_from": _l("Effective from")},
    joins=((BenefitStandard, BenefitStandard.id == BenefitValue.benefit_id),),
)
vocabulary.register_named(MeetingArrangement, _l("Meeting arrangement"), MeetingArrangement.name)

# Columns the policy format gained for issue 14 (document lead, clauses, inferred values).
vocabulary.add_fields(
    "Measure",
    {
        "clause": _l("Clause type"),
        "lead_from_document": _l("Lead taken from the document"),
        "inferred": _l("Inferred values"),
    },
)
vocabulary.add_fields(
    "PolicyVersion",
    {
        "lead_department_key": _l("Document lead"),
        "member_department_keys": _l("Member units"),
        "inferred": _l("Inferred values"),
        "department_kinds": _l("District's own department kinds"),
        "adopted_at": _l("Adopted at"),
        "adopted_by": _l("Adopted by"),
        "after_expiry": _l("Decision after expiry"),
        "after_expiry_decided_at": _l("Decision after expiry taken at"),
        "after_expiry_decided_by": _l("Decision after expiry taken by"),
    },
)
vocabulary.add_fields("MeetingArrangement", {"inferred": _l("Inferred values")})
vocabulary.add_fields(
    "BenefitStandard", {"funding_split_applies_to": _l("Funding split applies to")}
)
vocabulary.add_fields("BenefitValue", {"in_force_before": _l("In force before")})
