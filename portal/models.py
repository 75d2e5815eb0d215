"""Import every domain's models so the mapper registry (and Alembic) sees them all."""

from portal.audit.models import AuditChainHead, AuditEvent
from portal.auth.models import ApiToken, LoginAttempt, User
from portal.tenancy.models import Department, DepartmentKind, Tenant

__all__ = [
    "ApiToken",
    "AuditChainHead",
    "AuditEvent",
    "Department",
    "DepartmentKind",
    "LoginAttempt",
    "Tenant",
    "User",
]
