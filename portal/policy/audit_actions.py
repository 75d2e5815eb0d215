"""The policy domain's audit vocabulary (registrations only; read by `portal.audit`)."""

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
from portal.policy.models import (
    BenefitStandard,
    BenefitValue,
    Measure,
    MeetingArrangement,
    PolicyDocument,
    PolicyVersion,
)

register_module("policy", _l("Policy"), order=35)
register_actions("policy", {"policy_exported": _l("Policy exported")})

register_record_type(
    "PolicyDocument",
    _l("Policy document"),
    names=names_from(PolicyDocument, lambda d: d.title, PolicyDocument.title),
    find=find_in(PolicyDocument, PolicyDocument.title),
)
register_record_type(
    "PolicyVersion",
    _l("Policy version"),
    fields={"doc_number": _l("Document number"), "effective_from": _l("Effective from")},
    names=names_from(
        PolicyVersion,
        lambda v: f"{v.title} {v.doc_number}".strip(),
        PolicyVersion.title,
        PolicyVersion.doc_number,
    ),
    find=find_in(PolicyVersion, PolicyVersion.title, PolicyVersion.doc_number),
)
register_record_type(
    "Measure",
    _l("Measure"),
    fields={"number": _l("Measure number"), "text": _l("Text"), "category": _l("Category")},
    names=names_from(Measure, lambda m: f"{m.number} {m.title}", Measure.number, Measure.title),
    find=find_in(Measure, Measure.title),
)
register_record_type("MeasureResponsibility", _l("Responsibility"))
register_record_type(
    "BenefitStandard",
    _l("Benefit standard"),
    names=names_from(BenefitStandard, lambda b: b.name, BenefitStandard.name),
    find=find_in(BenefitStandard, BenefitStandard.name),
)
register_record_type(
    "BenefitValue",
    _l("Benefit amount"),
    fields={"amount": _l("Amount"), "effective_from": _l("Effective from")},
    names=names_from(
        BenefitValue,
        lambda v: f"{v.name} {v.amount}",
        BenefitStandard.name,
        BenefitValue.amount,
        joins=[(BenefitStandard, BenefitStandard.id == BenefitValue.benefit_id)],
    ),
)
register_record_type(
    "MeetingArrangement",
    _l("Meeting arrangement"),
    names=names_from(MeetingArrangement, lambda a: a.name, MeetingArrangement.name),
)

# Columns the policy format gained for issue 14 (document lead, clauses, inferred values).
add_fields(
    "Measure",
    {
        "clause": _l("Clause type"),
        "lead_from_document": _l("Lead taken from the document"),
        "inferred": _l("Inferred values"),
    },
)
add_fields(
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
add_fields("MeetingArrangement", {"inferred": _l("Inferred values")})
add_fields("BenefitStandard", {"funding_split_applies_to": _l("Funding split applies to")})
add_fields("BenefitValue", {"in_force_before": _l("In force before")})
