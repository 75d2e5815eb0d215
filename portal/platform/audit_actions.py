"""The platform domain's audit vocabulary (registrations only; read by `portal.audit`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.audit.vocabulary import register_actions

register_actions(
    "districts",
    {
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
