"""The tenancy domain's audit vocabulary (registrations only; read by `portal.audit`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.audit.vocabulary import (
    find_in,
    names_from,
    register_actions,
    register_module,
    register_record_type,
)
from portal.tenancy.models import Department, Tenant

register_module("districts", _l("Districts"), order=70)

STATUS_LABELS = {
    "provisioning": _l("provisioning"),
    "active": _l("active"),
    "suspended": _l("suspended"),
    "pending_deletion": _l("pending deletion"),
    "purged": _l("purged"),
}

register_actions(
    "districts",
    {
        "tenant_provisioning": _l("District being set up"),
        "tenant_active": _l("District activated"),
        "tenant_suspended": _l("District suspended"),
        "tenant_pending_deletion": _l("District marked for deletion"),
        "tenant_purged": _l("District data purged"),
    },
)

register_record_type(
    "Tenant",
    _l("District"),
    fields={"slug": _l("Short name"), "name": _l("Name"), "status_changed_at": _l("Status since")},
    values={"status": STATUS_LABELS},
    names=names_from(Tenant, lambda t: t.name),
    find=find_in(Tenant, Tenant.name, Tenant.slug),
)
register_record_type(
    "Department",
    _l("Department"),
    fields={"key": _l("Key"), "kind_code": _l("Kind"), "sort_order": _l("Order")},
    names=names_from(Department, lambda d: d.name),
    find=find_in(Department, Department.name),
)
register_record_type("DepartmentKind", _l("Department kind"))
