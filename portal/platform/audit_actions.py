"""The platform domain's audit vocabulary (registrations only; read by `portal.audit`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.audit.vocabulary import register_actions, register_module

register_module("districts", _l("Districts"), order=70)

register_actions(
    "districts",
    {
        # tenant lifecycle (recorded by tenancy's and platform's lifecycle changes)
        "tenant_provisioning": _l("District being set up"),
        "tenant_active": _l("District activated"),
        "tenant_suspended": _l("District suspended"),
        "tenant_pending_deletion": _l("District marked for deletion"),
        "tenant_purged": _l("District data purged"),
        "tenant_onboarding": (
            _l("District onboarded"),
            _l("%(departments)s departments, %(measures)s measures"),
        ),
        "lead_account_created": _l("Lead account created"),
        "tenant_archive_exported": (
            _l("District archive exported"),
            _l("%(rows)s rows, %(files)s files"),
        ),
        "tenant_archive_imported": (
            _l("District archive imported"),
            _l("%(rows)s rows, %(files)s files"),
        ),
        "tenant_config_exported": _l("District configuration exported"),
    },
)
