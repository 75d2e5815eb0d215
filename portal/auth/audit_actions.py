"""The accounts domain's audit vocabulary (registrations only; read by `portal.audit`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.audit.vocabulary import (
    SIGN_IN,
    find_in,
    names_from,
    not_audited,
    register_actions,
    register_module,
    register_named,
    register_record_type,
)
from portal.auth.models import ApiToken, User
from portal.kernel.grants import ROLE_LABELS

register_module(SIGN_IN, _l("Sign-in log"), order=20)
register_module("accounts", _l("Accounts"), order=30)

register_actions(
    SIGN_IN,
    {
        "login": _l("Signed in"),
        "login_failed": (
            _l("Sign-in failed"),
            _l("Tried as %(username_tried)s: %(reason)s"),
        ),
        "login_refused_locked": (
            _l("Sign-in refused (locked)"),
            _l("Tried as %(username_tried)s"),
        ),
        "lockout": (_l("Account locked"), _l("Tried as %(username_tried)s")),
        "logout": _l("Signed out"),
    },
)
register_actions(
    "accounts",
    {
        "password_changed": _l("Password changed"),
        "token_created": _l("API token created"),
        "token_revoked": _l("API token revoked"),
        "role_changed": (_l("Role changed"), _l("New role: %(role)s")),
        "account_created": _l("Account created"),
        "account_deactivated": _l("Account deactivated"),
        "account_reactivated": _l("Account reactivated"),
        "password_reset": _l("Password reset"),
    },
)

register_record_type(
    "User",
    _l("User"),
    fields={
        "username": _l("User name"),
        "password_history": _l("Password history"),
        "display_name": _l("Name"),
        "role": _l("Role"),
        "department_id": _l("Department"),
        "active": _l("Active"),
        "locale": _l("Language"),
        "password_hash": _l("Password"),
        "must_change_password": _l("Must change password"),
        "session_version": _l("Session"),
    },
    values={
        # why a sign-in failed (the login events' data)
        "reason": {
            "invalid": _l("wrong user name or password"),
            "locked": _l("locked after repeated failures"),
            "inactive": _l("account deactivated"),
            "suspended": _l("district suspended"),
        },
        "role": {role.value: label for role, label in ROLE_LABELS.items()},
        # each language by its own name, as the language menu shows it
        "locale": {"en": "English", "zh_Hans_CN": "简体中文"},
    },
    names=names_from(
        User, lambda u: u.display_name or u.username, User.display_name, User.username
    ),
    find=find_in(User, User.display_name, User.username),
)
register_named(ApiToken, _l("API token"), ApiToken.name, find=(ApiToken.name,))

# The sign-in event records the time; the user row's own copy is bookkeeping.
not_audited("User", "last_login_at")
