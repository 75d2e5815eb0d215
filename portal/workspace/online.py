"""在线用户 pages: the lead sees their district's signed-in users, the operator everyone's;
both can force a user's sign-out (audited as `session.force_sign_out`)."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.kernel.grants import requires
from portal.kernel.rules import NotFound
from portal.kernel.uow import attempt
from portal.ui import NavItem, register_nav
from portal.workspace import sessions

bp = Blueprint("workspace", __name__, template_folder="templates")


def _endpoint(name: str, platform: bool) -> str:
    """The platform's pages are the district's under a `platform_` name."""
    return f"platform_{name}" if platform else name


def _page(platform: bool) -> Any:
    return render_template(
        "workspace/online.html",
        rows=sessions.online_sessions(),
        platform=platform,
        action=lambda s: url_for(f"workspace.{_endpoint('sign_out', platform)}", user_id=s.user_id),
    )


def _sign_out(platform: bool, user_id: uuid.UUID) -> Any:
    outcome = attempt(lambda: sessions.force_sign_out(current_user, user_id, platform=platform))
    if isinstance(outcome.error, NotFound):
        abort(404)
    if not outcome.ok:
        flash(str(outcome.error.message), "error")  # type: ignore[union-attr]
    else:
        flash(_("The user is signed out everywhere."), "success")
    return redirect(url_for(f"workspace.{_endpoint('online', platform)}"))


# The district's pages (its lead) and the platform's (the operator): one view each, its
# own path, grant and endpoint name.
for platform, base, grant in (
    (False, "/t/<slug>/online", "session.manage"),
    (True, "/platform/online", "platform.sessions"),
):
    register_nav(
        NavItem(_l("Online users"), f"workspace.{_endpoint('online', platform)}", grant, order=85)
    )
    bp.add_url_rule(
        base,
        _endpoint("online", platform),
        requires(grant)(partial(_page, platform)),
        methods=["GET"],
    )
    bp.add_url_rule(
        f"{base}/<uuid:user_id>/sign-out",
        _endpoint("sign_out", platform),
        requires(grant)(partial(_sign_out, platform)),
        methods=["POST"],
    )
