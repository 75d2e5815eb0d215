"""Import every domain's models so the mapper registry (and Alembic) sees them all."""

from portal import domains
from portal.audit.models import AuditChainHead, AuditEvent
from portal.auth.models import ApiToken, LoginAttempt, User
from portal.duties.models import Duty, DutyReviewRecord, EvidenceFile, ProgressEntry
from portal.policy.models import (
    BenefitStandard,
    BenefitValue,
    Measure,
    MeasureResponsibility,
    MeetingArrangement,
    PolicyDocument,
    PolicyVersion,
)
from portal.tenancy.models import Department, DepartmentKind, Tenant

__all__ = [
    "BenefitStandard",
    "BenefitValue",
    "Duty",
    "DutyReviewRecord",
    "EvidenceFile",
    "MeetingArrangement",
    "Measure",
    "MeasureResponsibility",
    "PolicyDocument",
    "PolicyVersion",
    "ProgressEntry",
    "ApiToken",
    "AuditChainHead",
    "AuditEvent",
    "Department",
    "DepartmentKind",
    "LoginAttempt",
    "Tenant",
    "User",
]

# Domains added later register their tables here without editing this file.
for _module in domains.modules("models"):
    pass

# Each domain's signal receivers (`portal/<domain>/signals.py`) connect when imported.
for _module in domains.modules("signals"):
    pass
