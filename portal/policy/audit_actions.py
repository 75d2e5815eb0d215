"""The policy domain's audit vocabulary (registrations only; read by `portal.audit`)."""

from __future__ import annotations

from typing import Any

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


def _named_by(column: Any, label: Any, *, searchable: bool = True) -> None:
    """A record type the trail names by one column of its own (a title, a name)."""
    model = column.class_
    register_record_type(
        model.__name__,
        label,
        names=names_from(model, lambda row: getattr(row, column.key), column),
        find=find_in(model, column) if searchable else None,
    )


_named_by(PolicyDocument.title, _l("Policy document"))
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
_named_by(BenefitStandard.name, _l("Benefit standard"))
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
_named_by(MeetingArrangement.name, _l("Meeting arrangement"), searchable=False)

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
