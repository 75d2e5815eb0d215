"""The tenant lifecycle: the only way a district's status changes, and always audited.

provisioning → active ⇄ suspended → pending deletion (restorable for `RETENTION_DAYS`)
→ purged. The console, the API, the CLI and onboarding all come through `set_status`
(directly or by a named operator action); nothing here commits.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from portal.audit import trail
from portal.db import utcnow
from portal.extensions import db
from portal.kernel.rules import RuleError
from portal.tenancy import scope
from portal.tenancy.models import Tenant, TenantStatus

RETENTION_DAYS = 30


class LifecycleError(RuleError):
    """A change the lifecycle does not allow in the tenant's current state."""

    code = "lifecycle"
    status = 409


S = TenantStatus
TRANSITIONS: dict[TenantStatus, frozenset[TenantStatus]] = {
    S.provisioning: frozenset({S.active}),
    S.active: frozenset({S.suspended, S.pending_deletion}),
    S.suspended: frozenset({S.active, S.pending_deletion}),
    S.pending_deletion: frozenset({S.suspended, S.purged}),  # restore goes to suspended
    S.purged: frozenset(),
}

# Operator actions: (the states they start from, the state they lead to).
ACTIONS: dict[str, tuple[frozenset[TenantStatus], TenantStatus]] = {
    "activate": (frozenset({S.provisioning}), S.active),
    "resume": (frozenset({S.suspended}), S.active),
    "suspend": (frozenset({S.active}), S.suspended),
    "delete": (frozenset({S.active, S.suspended}), S.pending_deletion),
    "restore": (frozenset({S.pending_deletion}), S.suspended),
}


def _refused(tenant: Tenant, target: TenantStatus) -> LifecycleError:
    return LifecycleError(
        _l(
            "%(slug)s cannot go from %(before)s to %(after)s.",
            slug=tenant.slug,
            before=tenant.status.value,
            after=target.value,
        )
    )


def record_platform(action: str, tenant: Tenant, data: dict | None = None) -> None:
    """An event about a district in the platform's own chain (the operator's record)."""
    trail.record_on(
        tenant,
        action,
        tenant_id=trail.PLATFORM_CHAIN,
        summary=tenant.slug,
        data=data or {},
    )


def set_status(
    tenant: Tenant,
    target: TenantStatus,
    reason: str = "",
    *,
    data: dict[str, Any] | None = None,
    purge: bool = False,
) -> None:
    """Move a tenant along its lifecycle (`TRANSITIONS`); audited in the platform chain.

    Purging is only reached through the platform's purge, which deletes the data first
    and says so with `purge=True`."""
    if target not in TRANSITIONS[tenant.status] or (target == S.purged) != purge:
        raise _refused(tenant, target)
    before = tenant.status
    with scope.cross_tenant("tenant lifecycle"):
        tenant.status = target
        tenant.status_changed_at = utcnow()
        record_platform(
            f"tenant_{target.value}",
            tenant,
            {
                "status": {"before": before.value, "after": target.value},
                **({"reason": reason} if reason or data is None else {}),
                **(data or {}),
            },
        )
        db.session.flush()


def apply_action(tenant: Tenant, action: str, reason: str = "") -> None:
    """A named operator action (console, API, CLI); refused unless it fits the state."""
    if action not in ACTIONS:
        raise LifecycleError(_l("Unknown action %(action)s.", action=action[:20]))
    sources, target = ACTIONS[action]
    if tenant.status not in sources:
        raise _refused(tenant, target)
    set_status(tenant, target, reason or ("restored" if action == "restore" else ""))
