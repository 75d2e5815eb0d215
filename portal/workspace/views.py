"""The district home: every panel comes from the domain modules (see portal.ui)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l

from portal.kernel.grants import requires
from portal.ui import HomePanel, NavItem, home_panels, register_home_panel, register_nav

bp = Blueprint("district", __name__, url_prefix="/t/<slug>", template_folder="templates")

register_nav(NavItem(_l("Home"), "district.home", "district.home", order=0))


@bp.get("/")
@requires("district.home", status=404)
def home() -> Any:
    return render_template("district/home.html", panels=home_panels())


def _overview_context() -> dict[str, Any]:
    import sqlalchemy as sa
    from flask_login import current_user

    from portal.extensions import db
    from portal.tenancy.models import Department

    departments = (
        db.session.execute(sa.select(Department).order_by(Department.sort_order, Department.name))
        .scalars()
        .all()
    )
    return {"departments": departments, "user": current_user}


register_home_panel(
    HomePanel("district/_overview_panel.html", "district.home", _overview_context, order=90)
)
