"""在线用户 pages: the lead sees their district's signed-in users, the operator everyone's;
both can force a user's sign-out (audited as `session.force_sign_out`)."""

from __future__ import annotations

import uuid
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

register_nav(NavItem(_l("Online users"), "workspace.online", "session.manage", order=85))
register_nav(
    NavItem(_l("Online users"), "workspace.platform_online", "platform.sessions", order=85)
)


def _page(platform: bool) -> Any:
    return render_template(
        "workspace/online.html",
        rows=sessions.online_sessions(),
        platform=platform,
        action=lambda s: url_for(
            "workspace.platform_sign_out" if platform else "workspace.sign_out",
            user_id=s.user_id,
        ),
    )


def _sign_out(user_id: uuid.UUID, platform: bool) -> Any:
    outcome = attempt(lambda: sessions.force_sign_out(current_user, user_id, platform=platform))
    if isinstance(outcome.error, NotFound):
        abort(404)
    if not outcome.ok:
        flash(str(outcome.error.message), "error")  # type: ignore[union-attr]
    else:
        flash(_("The user is signed out everywhere."), "success")
    return redirect(url_for("workspace.platform_online" if platform else "workspace.online"))


@bp.get("/t/<slug>/online")
@requires("session.manage")
def online() -> Any:
    return _page(False)


@bp.post("/t/<slug>/online/<uuid:user_id>/sign-out")
@requires("session.manage")
def sign_out(user_id: uuid.UUID) -> Any:
    return _sign_out(user_id, False)


@bp.get("/platform/online")
@requires("platform.sessions")
def platform_online() -> Any:
    return _page(True)


@bp.post("/platform/online/<uuid:user_id>/sign-out")
@requires("platform.sessions")
def platform_sign_out(user_id: uuid.UUID) -> Any:
    return _sign_out(user_id, True)
