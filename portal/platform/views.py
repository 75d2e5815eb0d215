"""The platform console for operators: tenants with counts and health, never business records."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l

from portal.auth.permissions import requires
from portal.platform import services
from portal.ui import NavItem, register_nav

bp = Blueprint("platform", __name__, url_prefix="/platform", template_folder="templates")

register_nav(NavItem(_l("Platform console"), "platform.console", "platform.console", order=0))


@bp.get("/")
@requires("platform.console")
def console() -> Any:
    return render_template("platform/console.html", rows=services.tenant_overview())
